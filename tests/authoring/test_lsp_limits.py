"""An editor may send the language server a document of any size: every feature does at most
what `regime check` would do with a file that size (refuse it past the policy size limit,
REGIME_MAX_POLICY_BYTES, before parsing), and never a traceback."""

from __future__ import annotations

from rulesengine.authoring import lsp

HUGE = "policy: huge\nrules:\n" + "  - {id: r, level: a, when: x > 1}\n" * 80_000   # 2.9 MB


def test_a_document_over_the_size_limit_is_one_diagnostic():
    analysis = lsp.analyse(HUGE, "huge.yaml")
    (d,) = analysis.diagnostics
    assert d.message == f"policy file too large ({len(HUGE):,} bytes; the limit is 2,000,000)"
    assert d.hint == "set the environment variable REGIME_MAX_POLICY_BYTES to raise the limit"
    assert lsp.build_index(HUGE, "huge.yaml") is None      # no names: hover and the rest


def test_the_limit_is_the_files_limit(monkeypatch):
    monkeypatch.setenv("REGIME_MAX_POLICY_BYTES", "50")
    text = "policy: small\n" + "# a comment line\n" * 3
    (d,) = lsp.analyse(text, "small.yaml").diagnostics
    assert d.message == f"policy file too large ({len(text)} bytes; the limit is 50)"
