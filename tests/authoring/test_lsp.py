"""`regime lsp` end to end: the server runs as a subprocess and a pytest-lsp client speaks
JSON-RPC to it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig, LanguageClient

from rulesengine.authoring import lsp

ROOT = Path(__file__).resolve().parents[2]

BROKEN = """\
policy: lsp_demo
title: A demo for the language server
entity: trust
period: quarter
levels:
  - {id: ok, meaning: "nothing to see"}
  - {id: watch, meaning: "watched closely"}
default: ok
scales:
  cqc: [outstanding, good, requires_improvement, inadequate]
params:
  low_bar: {value: 80, unit: percent, note: "a bar we chose", published: false}
inputs:
  ae_4hr_pct: {type: percent, better: higher, label: "A&E 4-hour performance"}
  cqc_overall_rating: {type: rating, scale: cqc}
define:
  slow_ae: ae_4hr_pc < low_bar
rules:
  - id: slow
    level: watch
    when: slow_ae or cqc_overall_rating >= requires_improvement
"""
FIXED = BROKEN.replace("ae_4hr_pc < low_bar", "ae_4hr_pct < low_bar")


@pytest_lsp.fixture(config=ClientServerConfig(
    server_command=[sys.executable, str(ROOT / "cli.py"), "lsp"],
    server_env={**os.environ, "PYTHONPATH": str(ROOT)}))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(t.InitializeParams(
        capabilities=pytest_lsp.client_capabilities("visual-studio-code")))
    yield
    await lsp_client.shutdown_session()


async def _diagnostics(client: LanguageClient, uri: str):
    while True:
        await client.wait_for_notification(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        if uri in client.diagnostics:
            return client.diagnostics.pop(uri)


@pytest.mark.asyncio(loop_scope="function")
async def test_the_language_server_end_to_end(client: LanguageClient, tmp_path):
    path = tmp_path / "lsp_demo.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    uri = path.as_uri()
    client.text_document_did_open(t.DidOpenTextDocumentParams(text_document=t.TextDocumentItem(
        uri=uri, language_id="yaml", version=1, text=BROKEN)))

    # diagnostics at the embedded expression's own line and column
    diagnostics = await _diagnostics(client, uri)
    errors = [d for d in diagnostics if d.severity == t.DiagnosticSeverity.Error]
    assert len(errors) == 1
    (error,) = errors
    assert "ae_4hr_pc" in error.message and "ae_4hr_pct" in error.message  # did you mean
    line = BROKEN.split("\n").index("  slow_ae: ae_4hr_pc < low_bar")
    assert (error.range.start.line, error.range.start.character) == (line, 11)
    assert error.range.end.character == 11 + len("ae_4hr_pc")

    # hover on a param used in an expression: value, note, published
    hover = await client.text_document_hover_async(t.HoverParams(
        text_document=t.TextDocumentIdentifier(uri=uri),
        position=t.Position(line=line, character=25)))
    assert "low" in hover.contents.value and "= 80" in hover.contents.value
    assert "a bar we chose" in hover.contents.value and "Not published" in hover.contents.value

    # hover on a built-in-free level id, and go to the define a rule uses
    rule_line = BROKEN.split("\n").index("    when: slow_ae or cqc_overall_rating >= "
                                         "requires_improvement")
    location = await client.text_document_definition_async(t.DefinitionParams(
        text_document=t.TextDocumentIdentifier(uri=uri),
        position=t.Position(line=rule_line, character=12)))
    assert location.uri == uri and location.range.start.line == line
    assert location.range.start.character == 2

    # completion after a rating comparison: the scale's labels
    completion = await client.text_document_completion_async(t.CompletionParams(
        text_document=t.TextDocumentIdentifier(uri=uri),
        position=t.Position(line=rule_line, character=len("    when: slow_ae or "
                                                          "cqc_overall_rating >= "))))
    assert [i.label for i in completion.items] == ["outstanding", "good",
                                                   "requires_improvement", "inadequate"]

    # the fix clears the diagnostics
    client.text_document_did_change(t.DidChangeTextDocumentParams(
        text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[t.TextDocumentContentChangeWholeDocument(text=FIXED)]))
    diagnostics = await _diagnostics(client, uri)
    assert [d for d in diagnostics if d.severity == t.DiagnosticSeverity.Error] == []

    # formatting is regime fmt
    edits = await client.text_document_formatting_async(t.DocumentFormattingParams(
        text_document=t.TextDocumentIdentifier(uri=uri),
        options=t.FormattingOptions(tab_size=2, insert_spaces=True)))
    from rulesengine.authoring.fmt import format_text
    assert len(edits) == 1 and edits[0].new_text == format_text(FIXED)

    symbols = await client.text_document_document_symbol_async(t.DocumentSymbolParams(
        text_document=t.TextDocumentIdentifier(uri=uri)))
    assert [s.name for s in symbols] == ["ok", "watch", "cqc", "low_bar", "ae_4hr_pct",
                                         "cqc_overall_rating", "slow_ae", "slow"]


def test_completion_offers_levels_after_level_and_names_in_scope_elsewhere():
    index = lsp.build_index(FIXED, "demo.yaml")
    assert [c.label for c in lsp.completions(index, "    level: ", 0, 11)] == ["ok", "watch"]
    names = {c.label: c for c in lsp.completions(index, "  x: ", 0, 5)}
    assert names["ae_4hr_pct"].detail == "input: percent"
    assert names["pct_rank"].detail == "pct_rank(x, by=..., better=...)"
    assert names["low_bar"].kind == "param"


def test_hover_escapes_policy_text_for_markdown():
    text = FIXED.replace('"a bar we chose"', '"a *bold* [link](x) `tick`"')
    hover = lsp.hover_text(lsp.build_index(text, "demo.yaml"), "low_bar")
    assert r"a \*bold\* \[link\](x) \`tick\`" in hover


def test_extends_goes_to_the_parent(tmp_path):
    (tmp_path / "base.yaml").write_text(FIXED, encoding="utf-8")
    child = "policy: child\nextends: base\nparams:\n  low_bar: 75\n"
    index = lsp.build_index(child, str(tmp_path / "child.yaml"))
    assert lsp.definition(index, child, 1, 10) == (str((tmp_path / "base.yaml").resolve()),
                                                   lsp.Pos(1, 1))
    # an inherited input is found in the parent, the overridden param in the child
    file, pos = lsp.definition(index, "x: ae_4hr_pct", 0, 5)
    assert file.endswith("base.yaml")
    assert "= 75" in lsp.hover_text(index, "low_bar")


def test_broken_yaml_is_a_located_diagnostic_and_the_index_survives_elsewhere():
    text = FIXED.replace("  low_bar: {value: 80", "  low_bar: {value: [80")
    analysis = lsp.analyse(text, "demo.yaml")
    (error,) = [d for d in analysis.diagnostics if d.severity == "error"]
    assert error.pos is not None and error.pos.line >= 12
    assert lsp.build_index(text, "demo.yaml") is None        # the server keeps its last index
    assert lsp.lsp_range(text, error.pos)[0] == error.pos.line - 1


def test_checked_policy_gives_defines_their_types():
    analysis = lsp.analyse(FIXED, "demo.yaml")
    assert analysis.define_types == {"slow_ae": "a true/false condition"}
    index = lsp.build_index(FIXED, "demo.yaml", analysis.define_types)
    assert "true/false" in lsp.hover_text(index, "slow_ae")
    assert "ae_4hr_pct < low_bar" in lsp.hover_text(index, "slow_ae")
