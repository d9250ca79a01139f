"""The built-in registry (rulesengine/lang/builtins/): every entry is complete, the family files
import without numba, every function is exercised by the engines' agreement tests, and no
module outside the registry names a distinctive built-in (one definition per function)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from rulesengine.lang.builtins import BUILTINS, FAMILIES, KINDS, KWARG_ROLES, RESULTS

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "rulesengine"
REGISTRY = PACKAGE / "lang" / "builtins"
# names no other word of the code base shares: a mention outside the registry is a second
# definition (a dispatch on the name, or its meaning restated)
DISTINCTIVE = ("pct_rank", "ntile", "sustained", "count_over", "metric_score", "mean_over",
               "coalesce", "median_over")


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_entry_is_complete(name):
    b = BUILTINS[name]
    assert b.family in {f for f, _, _ in FAMILIES}
    assert all(k in KINDS for k in b.params) and b.result in RESULTS
    assert all(k in KWARG_ROLES for k in b.kwargs) and set(b.exclusive) <= set(b.kwargs)
    assert callable(b.reference) and callable(b.compiled) and callable(b.words)
    assert b.doc and b.doc == b.doc.strip()
    for i in (b.values or ()):
        assert i < len(b.params)
    if b.size is not None:
        assert b.params[b.size] in ("window", "int")
        assert b.size not in (b.values or ())    # a size is read as a number, not a value
    if b.lookback is not None:
        assert b.size is not None                 # how far it looks is its size argument
    assert not (b.better and b.better_from)       # one rule for its direction
    if b.ranks:
        assert b.cross and "better" in b.kwargs
    if b.history:
        assert b.lookback is not None
    if b.level_counter:
        assert b.reads_levels


def test_families_hold_their_own_entries_in_order():
    seen = []
    for family, heading, module in FAMILIES:
        assert all(b.family == family for b in module.BUILTINS.values())
        seen += list(module.BUILTINS)
    assert seen == list(BUILTINS)


def test_registry_imports_without_numba():
    """The checker and the language server read signatures without loading numba."""
    code = ("import sys; import rulesengine.lang.builtins, rulesengine.check.checker; "
            "print('numba' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "False"


def test_registry_files_never_import_numba():
    for path in REGISTRY.glob("*.py"):
        assert not re.search(r"^\s*(import|from)\s+numba", path.read_text(), re.M), path.name


def test_every_builtin_is_in_the_agreement_tests():
    """tests/compile/test_agreement.py runs each construct policygen can focus on through
    every engine; a built-in missing there is one no test shows the engines agree on."""
    sys.path.insert(0, str(ROOT / "tests" / "compile"))
    try:
        import policygen
    finally:
        sys.path.pop(0)
    assert sorted(set(BUILTINS) - set(policygen.FOCUS)) == []


@pytest.mark.parametrize("name", DISTINCTIVE)
def test_builtin_is_defined_only_in_its_family_file(name):
    if name not in BUILTINS:
        pytest.skip(f"{name} is not a built-in")
    mentions = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                      if re.search(rf"\b{name}\b", p.read_text(encoding="utf-8")))
    assert mentions == [f"lang/builtins/{_module_of(name)}.py"]


def _module_of(name: str) -> str:
    family = BUILTINS[name].family
    return next(module.__name__.rsplit(".", 1)[1] for f, _, module in FAMILIES if f == family)
