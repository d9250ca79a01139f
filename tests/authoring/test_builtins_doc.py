"""`regime doc --builtin NAME` / `--builtins` and the README's table: rendered from the
built-in registry, so they cannot drift from what the engines do."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from rulesengine.authoring.doc import builtin_table
from rulesengine.cli import cli
from rulesengine.lang.builtins import BUILTINS

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_table_is_the_generated_one():
    text = README.read_text(encoding="utf-8")
    m = re.search(r"<!-- builtins table:.*?-->\n(.*?)<!-- end of builtins table -->", text, re.S)
    assert m, "README.md lost its builtins table markers"
    assert m.group(1) == builtin_table(), (
        "README.md's table of built-in functions differs from the registry's: replace it with "
        "the output of python -c 'from rulesengine.authoring.doc import builtin_table; "
        "print(builtin_table(), end=\"\")'")


def test_table_lists_every_builtin_once():
    table = builtin_table()
    for name in BUILTINS:
        assert len(re.findall(rf"`{name}\(", table)) == 1, name


def _doc(*args):
    return CliRunner().invoke(cli, ["doc", *args])


def test_doc_builtin_shows_signature_meaning_and_family():
    r = _doc("--builtin", "count_over")
    assert r.exit_code == 0, r.output
    assert r.output.startswith("# count\\_over(cond, n, follow=...)\n")
    assert "- keyword arguments: `follow=`" in r.output
    assert "in how many of the last n periods cond held; unknown if any is unknown." in r.output
    assert "- `cond`: a true/false condition" in r.output
    assert "## The family: over time (per entity)" in r.output
    assert "Compiled:" not in r.output          # how it is compiled is not for authors


def test_doc_builtin_orientation():
    r = _doc("--builtin", "rank")
    assert "for its result, lower is better" in r.output
    assert "ranks its value oriented by the input's `better:`" in r.output


def test_doc_builtins_documents_every_function_in_html_too():
    md = _doc("--builtins").output
    html = _doc("--builtins", "--format", "html").output
    for b in BUILTINS.values():
        assert f"\n### {b.signature().replace('_', chr(92) + '_')}\n" in md, b.name
        assert f"<h3>{b.signature()}</h3>" in html, b.name


def test_doc_unknown_builtin_is_a_clear_error():
    r = _doc("--builtin", "pct_rnk")
    assert r.exit_code == 1
    assert "unknown built-in function 'pct_rnk'; did you mean 'pct_rank'?" in r.output
    assert "Traceback" not in r.output


def test_doc_needs_one_subject():
    assert _doc().exit_code == 2
    assert _doc("oversight2021", "--builtins").exit_code == 2
    assert _doc("--builtin", "rank", "--builtins").exit_code == 2
