"""Function-level imports of the project's own modules: each says why it is not at the top.

The layers contract (tests/test_layers.py) sees imports inside functions too; this test keeps
them few and explained. Outside the command line (`cli/`) and the API (`api.py`), whose lazy
loading is the rule there, an import of a `rulesengine` module inside a function is there only
for start-up time (the target loads numba, pyarrow, matplotlib, lark, YAML or JSON Schema and
the importer does not, or the work is skipped on a cache hit), and says so in a comment on
its line or the line before. A run of imports one after another shares the first one's
comment."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "rulesengine"
LAZY_BY_DESIGN = ("cli/", "api.py")


def uncommented_imports(text: str) -> list[int]:
    """Lines of function-level imports of the project's own modules with no comment saying
    why (on the import's lines, or the line before it or before its run of imports)."""
    lines = text.splitlines()
    found: list[int] = []
    covered_until = 0           # the last line of the previous covered function-level import

    def commented(node: ast.stmt) -> bool:
        own = range(node.lineno - 1, node.end_lineno)
        if any("#" in lines[i] for i in own):
            return True
        before = lines[node.lineno - 2].strip() if node.lineno >= 2 else ""
        return before.startswith("#") or (covered_until == node.lineno - 1 > 0)

    def visit(node: ast.AST, in_function: bool) -> None:
        nonlocal covered_until
        for child in ast.iter_child_nodes(node):
            if in_function and isinstance(child, (ast.Import, ast.ImportFrom)):
                ok = commented(child)
                if ok:
                    covered_until = child.end_lineno
                if _own(child) and not ok:
                    found.append(child.lineno)
            visit(child, in_function or isinstance(
                child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    visit(ast.parse(text), False)
    return found


def _own(node: ast.Import | ast.ImportFrom) -> bool:
    if isinstance(node, ast.ImportFrom):
        return node.level > 0 or (node.module or "").split(".")[0] == "rulesengine"
    return any(a.name.split(".")[0] == "rulesengine" for a in node.names)


def test_every_function_level_import_of_our_own_modules_says_why():
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith(LAZY_BY_DESIGN):
            continue
        missing += [f"rulesengine/{rel}:{line}" for line in uncommented_imports(path.read_text())]
    assert not missing, ("function-level imports without a comment saying why they are not at "
                         "the top (move them up when no start-up reason holds):\n"
                         + "\n".join(missing))


def test_the_check_finds_an_uncommented_import_and_accepts_a_commented_run():
    text = '''
import os


def f():
    from .a import b
    return b


def g():
    # lark: only when formatting
    from .fmt import format_text
    from . import schema
    import json
    return format_text, schema, json


def h():
    from .x import y  # yaml: only here
    from rulesengine.z import w
    return y, w


def k():
    import json

    from rulesengine import q
    return json, q
'''
    # f's import has no comment; g's run shares its comment; h's trailing comment covers
    # the next line; k's own import follows a blank line, so it needs its own
    assert uncommented_imports(text) == [6, 27]
