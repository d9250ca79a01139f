"""Diagnostic codes (rulesengine/codes.py): named once, each documented, the documented list
(docs/error-codes.md) current, and every code the package reports one of them."""

from __future__ import annotations

import ast
from pathlib import Path

from click.testing import CliRunner

from rulesengine import codes
from rulesengine.cli import cli

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "rulesengine"
CONSTANTS = {k: v for k, v in vars(codes).items() if k.isupper() and isinstance(v, str)}


def test_every_constant_is_documented_and_every_documented_code_named():
    assert set(CONSTANTS.values()) == set(codes.CODES)
    assert len(set(CONSTANTS.values())) == len(CONSTANTS), "two constants share a code"
    assert all(text.strip() for text in codes.CODES.values())


def test_the_documented_list_is_current():
    doc = (ROOT / "docs" / "error-codes.md").read_text()
    assert doc == codes.render_markdown(), "regenerate: regime doc --codes --out docs/error-codes.md"


def test_regime_doc_codes_prints_the_list():
    result = CliRunner().invoke(cli, ["doc", "--codes"])
    assert result.exit_code == 0, result.output
    assert result.output == codes.render_markdown()
    assert "| `unknown-name` |" in result.output


def _code_arguments():
    """(file, line, node) of every value given as a diagnostic's code: `code=` keywords and
    defaults of parameters named `code`."""
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                for kw in node.keywords:
                    if kw.arg == "code":
                        yield path, kw.value.lineno, kw.value
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                args = node.args.args + node.args.kwonlyargs
                defaults = ([None] * (len(node.args.args) - len(node.args.defaults))
                            + node.args.defaults + node.args.kw_defaults)
                for arg, default in zip(args, defaults):
                    if arg.arg == "code" and default is not None:
                        yield path, default.lineno, default


def test_every_code_reported_is_a_named_documented_code():
    seen = 0
    for path, line, value in _code_arguments():
        where = f"{path.relative_to(ROOT)}:{line}"
        assert not isinstance(value, ast.Constant), \
            f"{where}: name the code by its constant (codes.X), not {value.value!r}"
        if isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name) \
                and value.value.id == "codes":
            assert value.attr in CONSTANTS, f"{where}: codes.{value.attr} does not exist"
            seen += 1
    assert seen > 50        # the scan found the package's diagnostics
