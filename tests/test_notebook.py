"""examples/quickstart.ipynb runs top to bottom, as Jupyter would run it.

Its code cells run in order in one namespace; a cell ending in an expression has that value
shown as Jupyter shows it (its `_repr_html_` when it has one, which must then be HTML). This
needs nothing beyond the project's own dependencies, so it runs in CI as it is (a kernel via
nbclient would add jupyter packages and seconds of start-up for no more checking)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

ROOT = Path(__file__).parents[1]
NOTEBOOK = ROOT / "examples" / "quickstart.ipynb"


def _run_cell(source: str, namespace: dict, name: str):
    tree = ast.parse(source, filename=name)
    last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    if last is not None:
        tree.body = tree.body[:-1]
    exec(compile(tree, name, "exec"), namespace)
    if last is None:
        return None
    return eval(compile(ast.Expression(last.value), name, "eval"), namespace)


def test_quickstart_notebook_runs_top_to_bottom(monkeypatch):
    monkeypatch.chdir(ROOT)
    doc = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    assert doc["metadata"]["kernelspec"]["name"] == "python3"
    namespace: dict = {"__name__": "__main__"}
    shown = 0
    for i, cell in enumerate(doc["cells"]):
        if cell["cell_type"] != "code":
            continue
        assert not cell.get("outputs"), "commit the notebook without outputs"
        value = _run_cell("".join(cell["source"]), namespace, f"{NOTEBOOK.name}[{i}]")
        if value is not None and hasattr(value, "_repr_html_"):
            html = value._repr_html_()
            assert isinstance(html, str) and "<table" in html, i
            shown += 1
    assert shown >= 5
