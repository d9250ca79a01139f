"""rule_bits: the one packing of rules' booleans into the kernel's 64-bit words."""

import numpy as np
import pytest

from rulesengine.engine.outcomes import n_words, rule_bits


@pytest.mark.parametrize("rules", [0, 1, 5, 63, 64, 65, 130])
def test_rule_i_is_bit_i_mod_64_of_word_i_div_64(rules):
    rng = np.random.default_rng(rules)
    mask = rng.random((rules, 3, 7)) < 0.5
    got = rule_bits(mask)
    assert got.shape == (3, 7, n_words(rules)) and got.dtype == np.uint64
    for i in range(rules):
        word, bit = divmod(i, 64)
        assert ((got[..., word] >> np.uint64(bit)) & np.uint64(1)).astype(bool).tolist() \
            == mask[i].tolist()
    # no bit beyond the last rule
    spare = (rules % 64) and np.uint64(~((1 << (rules % 64)) - 1) & (2**64 - 1))
    if spare:
        assert not (got[..., -1] & spare).any()


def test_one_period_of_entities():
    mask = np.array([[True, False], [False, True], [True, True]])      # 3 rules, 2 entities
    assert rule_bits(mask).tolist() == [[0b101], [0b110]]
