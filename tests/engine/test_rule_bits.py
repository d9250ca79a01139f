"""rule_bits: the one packing of rules' booleans into the bits every engine writes (rule i is
bit i % 8 of byte i // 8), and the readers beside it."""

import numpy as np
import pytest

from rulesengine.engine.outcomes import n_bytes, rule_bit, rule_bits, rule_mask, set_rules


@pytest.mark.parametrize("rules", [0, 1, 5, 8, 9, 63, 64, 65, 130])
def test_rule_i_is_bit_i_mod_8_of_byte_i_div_8(rules):
    rng = np.random.default_rng(rules)
    mask = rng.random((rules, 3, 7)) < 0.5
    got = rule_bits(mask)
    assert got.shape == (3, 7, n_bytes(rules)) and got.dtype == np.uint8
    for i in range(rules):
        byte, bit = divmod(i, 8)
        assert ((got[..., byte] >> bit) & 1).astype(bool).tolist() == mask[i].tolist()
        assert rule_mask(got, i).tolist() == mask[i].tolist()
        assert rule_bit(got[2, 4], i) == bool(mask[i, 2, 4])
    # no bit beyond the last rule
    spare = rules % 8 and (0xFF & ~((1 << (rules % 8)) - 1))
    if spare:
        assert not (got[..., -1] & spare).any()
    assert set_rules(got[1, 3], rules).tolist() == np.flatnonzero(mask[:, 1, 3]).tolist()


def test_one_period_of_entities():
    mask = np.array([[True, False], [False, True], [True, True]])      # 3 rules, 2 entities
    assert rule_bits(mask).tolist() == [[0b101], [0b110]]


def test_a_byte_a_cell_up_to_eight_rules():
    assert [n_bytes(r) for r in (0, 1, 8, 9, 16, 17, 64, 65)] == [1, 1, 1, 2, 2, 3, 8, 9]
