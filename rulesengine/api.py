"""The Python API for notebooks and scripts: evaluate, explain, diff and test, on data given as
a path, a pandas DataFrame, a pyarrow Table or a Panel, with results that are tables.

    import rulesengine as regime
    result = regime.evaluate("oversight2021", df, params={"bottom_quartile": 20})
    result.to_frame()                 # one row per organisation and period
    result                            # in Jupyter: a table of the latest period
    regime.explain("oversight2021", "T001", df)

DataFrames and Tables are read by the same loader as files (rulesengine/data/loaders.py), so
a value means the same whether it came from a CSV, a Parquet file or a frame: long
(`entity,period,metric,value`) or wide (`entity,period,<metric>...`) layouts, periods written
as in the files (`2021-Q3`, `2021/22 Q3`, `2019-03`), ratings as labels, flags as
true/false. Problems are DataErrors naming the frame's row (its header is line 1, so the first
row is line 2).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

import numpy as np

from .diagnostics import DataError, RegimeError

if TYPE_CHECKING:
    from .analysis.diff import DiffResult
    from .analysis.explain import Explanation
    from .analysis.testing import PolicyResult
    from .data.panel import Panel
    from .engine.layout import Layout
    from .engine.outcomes import Outcomes
    from .check.checker import CheckedPolicy

__all__ = ["evaluate", "explain", "diff", "test", "Evaluation", "ExplainResult", "Comparison",
           "TestReport"]

# rows a notebook shows before saying how many more there are
_SHOWN_ROWS = 60


# --- inputs -------------------------------------------------------------------------------------

def _policy(policy, policy_path: Iterable[str] = ()) -> tuple["CheckedPolicy", str | None]:
    """(checked policy, git revision) from a CheckedPolicy, an id, a path or `id@revision`."""
    if isinstance(policy, (str, os.PathLike)):
        from .pipeline.revisions import load_ref

        return load_ref(os.fspath(policy), policy_path=tuple(policy_path))
    if hasattr(policy, "policy") and hasattr(policy, "used_inputs"):
        return policy, None
    raise TypeError(f"policy must be a policy id, a path or a checked policy (from "
                    f"load_policy), not {type(policy).__name__}")


def _is_frame(x) -> bool:
    return type(x).__name__ == "DataFrame" and hasattr(x, "to_dict") and hasattr(x, "columns")


def _is_arrow(x) -> bool:
    return type(x).__name__ == "Table" and hasattr(x, "schema") and hasattr(x, "column_names")


def _frame_to_arrow(df):
    """A DataFrame as an Arrow table the loader reads as it reads a Parquet file: index levels
    named entity/period become columns, pandas periods are written as regime periods, and a
    column mixing text and numbers (a long table's values with ratings) becomes text, which
    the loader reads by each metric's type."""
    import pandas as pd
    import pyarrow as pa

    names = [n for n in (df.index.names or []) if n is not None]
    if names:
        df = df.reset_index()
    df = df.copy()
    df.columns = [str(c) for c in df.columns]
    for name in df.columns:
        col = df[name]
        if isinstance(col.dtype, pd.PeriodDtype):
            df[name] = col.map(_period_text)
        elif isinstance(col.dtype, pd.CategoricalDtype):
            df[name] = col.astype(object).where(col.notna(), None)
        if df[name].dtype == object:
            kinds = {type(v) for v in df[name] if v is not None and v == v}
            if len(kinds) > 1 or (kinds and not kinds <= {str}):
                df[name] = df[name].map(lambda v: None if v is None or v != v else
                                        _period_text(v) if isinstance(v, pd.Period) else str(v))
    return pa.Table.from_pandas(df, preserve_index=False)


def _period_text(p) -> str | None:
    """A pandas Period as regime writes periods (2021-Q3, 2019-03, 2021 for a year)."""
    if p is None or p != p:
        return None
    freq = p.freqstr.upper()
    if freq.startswith("Q"):
        return f"{p.year}-Q{p.quarter}"
    if freq.startswith("M"):
        return f"{p.year}-{p.month:02d}"
    return str(p)


def _via_parquet(table, what: str, write_to: Path, name: str) -> Path:
    import pyarrow.parquet as pq

    path = write_to / name
    pq.write_table(table, path)
    return path


def _rename_file(err: DataError, temp: Mapping[str, str]) -> DataError:
    """The error with the temporary file's name replaced by what the user passed."""
    diags = [replace(d, file=temp.get(d.file or "", d.file)) for d in err.diagnostics]
    return DataError(diags)


def to_panel(data=None, *, entities=None, policy: "CheckedPolicy | None" = None) -> "Panel | None":
    """A Panel from a path, a DataFrame, a pyarrow Table or a Panel (None: the bundled sample,
    returned as None). `entities` may be a path, a DataFrame or a Table too."""
    from .data.loaders import load_panel
    from .data.panel import Panel

    if data is None:
        if entities is not None:
            raise RegimeError("entities= needs data= (the bundled sample has its own entities)")
        return None
    if isinstance(data, Panel):
        return data
    if isinstance(data, (str, os.PathLike)) and not (_is_frame(entities) or
                                                     _is_arrow(entities)):
        return load_panel(data, entities=entities, policy=policy)
    with tempfile.TemporaryDirectory(prefix="regime-") as tmp:
        temp: dict[str, str] = {}
        folder = Path(tmp)
        if _is_frame(data) or _is_arrow(data):
            what = "DataFrame" if _is_frame(data) else "pyarrow Table"
            table = _frame_to_arrow(data) if _is_frame(data) else data
            path = _via_parquet(table, what, folder, "data.parquet")
            temp[str(path)] = what
        elif isinstance(data, (str, os.PathLike)):
            path = Path(data)
        else:
            raise TypeError(f"data must be a path, a pandas DataFrame, a pyarrow Table or a "
                            f"Panel, not {type(data).__name__}")
        ent = entities
        if _is_frame(entities) or _is_arrow(entities):
            what = "entities DataFrame" if _is_frame(entities) else "entities Table"
            table = _frame_to_arrow(entities) if _is_frame(entities) else entities
            ent = _via_parquet(table, what, folder, "entities.parquet")
            temp[str(ent)] = what
        try:
            panel = load_panel(path, entities=ent, policy=policy)
        except DataError as e:
            raise _rename_file(e, temp) from None
    sources = tuple(temp.get(s, s) for s in panel.sources)
    return replace(panel, sources=sources)


def _evaluated(policy, data, entities, params, decisions, engine, policy_path):
    from .pipeline.run import finish, prepare

    checked, revision = _policy(policy, policy_path)
    panel = to_panel(data, entities=entities, policy=checked)
    decisions_path, tmp = _decisions_path(decisions)
    try:
        prepared = prepare(checked, panel, decisions=decisions_path,
                           params=_params(checked, params))
    finally:
        if tmp is not None:
            tmp.cleanup()
    done = finish(checked, prepared, engine, revision, params=_params(checked, params),
                  decisions=decisions if isinstance(decisions, (str, os.PathLike)) else None)
    return checked, done.layout, done.outcomes, panel


def _params(checked, params: Mapping[str, Any] | None) -> dict[str, float] | None:
    """Parameter overrides: numbers as numbers, or text as written in a policy ("95%",
    "£1.5m"), read and checked as `--param NAME=VALUE` is."""
    if not params:
        return None
    from .engine.params import parse_overrides

    return parse_overrides(checked, tuple(f"{k}={v}" for k, v in params.items()))


def _decisions_path(decisions):
    """Decisions as a path; a DataFrame (entity,period,level,decided_by,reason) is written to
    a temporary CSV so it is read by the decisions loader's own rules."""
    if decisions is None or isinstance(decisions, (str, os.PathLike)):
        return decisions, None
    if _is_frame(decisions):
        tmp = tempfile.TemporaryDirectory(prefix="regime-")
        path = Path(tmp.name) / "decisions.csv"
        decisions.to_csv(path, index=False)
        return path, tmp
    raise TypeError(f"decisions must be a path or a DataFrame, not {type(decisions).__name__}")


def _period_index(outcomes: "Outcomes", period: str | None) -> int:
    """One period: as named, or for None the latest inside the policy's effective dates (as
    the command line chooses it)."""
    if period is not None and period.strip().lower() == "all":
        raise RegimeError("give one period, or None for the latest")
    if period is None:
        from .policy.effective import default_period

        return default_period(outcomes)
    from .engine.outcomes import select_periods

    return select_periods(outcomes, period)[0]


# --- results ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Evaluation:
    """A policy evaluated over data. Reads as its Outcomes too (`.raw`, `.level_ids`, ...)."""

    outcomes: "Outcomes"
    policy: "CheckedPolicy"
    layout: "Layout"

    def __getattr__(self, name: str):
        # only called for names the Evaluation itself lacks: the Outcomes' own
        if name.startswith("__") or name == "outcomes":
            raise AttributeError(name)
        return getattr(self.outcomes, name)

    def rows(self, periods=None) -> list[dict]:
        """One dict per decided-on organisation and period: every period (None or "all"),
        "latest" (the latest inside the policy's effective dates), a period ("2024-Q3"), or
        period indices as Outcomes.rows takes them."""
        return self.outcomes.rows(self._indices(periods))

    def to_frame(self, periods=None):
        """The rows as a pandas DataFrame (periods as for rows())."""
        import pandas as pd

        return pd.DataFrame(self.rows(periods))

    def counts(self, period=None) -> dict[str, int]:
        """Organisations per level in one period (None: the latest inside the policy's
        effective dates; or a period, or its index), every level listed."""
        if isinstance(period, (int, np.integer)):
            return self.outcomes.counts(int(period))
        return self.outcomes.counts(_period_index(self.outcomes, period))

    def _indices(self, periods) -> list[int] | None:
        if periods is None or (isinstance(periods, str) and periods.strip().lower() == "all"):
            return None
        if isinstance(periods, str):
            label = None if periods.strip().lower() == "latest" else periods
            return [_period_index(self.outcomes, label)]
        if isinstance(periods, (int, np.integer)):
            return [int(periods)]
        return [int(t) for t in periods]

    def explain(self, entity: str, period: str | None = None) -> "ExplainResult":
        """Why `entity` landed where it did in `period` (None: the latest)."""
        from .analysis.explain import explain as _explain

        t = _period_index(self.outcomes, period)
        return ExplainResult(_explain(self.policy, self.outcomes, self.layout, entity, t))

    def _repr_html_(self) -> str:
        from .report.html import evaluation_fragment

        return evaluation_fragment(self.outcomes, _period_index(self.outcomes, None),
                                   limit=_SHOWN_ROWS)

    def __repr__(self) -> str:
        o = self.outcomes
        p = self.policy.policy
        return (f"<Evaluation {p.id} v{p.version}: {len(o.entities)} entities, "
                f"{o.period_labels[0]} to {o.period_labels[-1]}>")


@dataclass(frozen=True)
class ExplainResult:
    """One organisation's explanation; `str()` is the text `regime explain` prints."""

    explanation: "Explanation"

    def __getattr__(self, name: str):
        if name.startswith("__") or name == "explanation":
            raise AttributeError(name)
        return getattr(self.explanation, name)

    def __str__(self) -> str:
        from .analysis.explain import render_text

        return render_text(self.explanation)

    def markdown(self) -> str:
        from .analysis.explain import render_markdown

        return render_markdown(self.explanation)

    def to_json(self) -> dict:
        return self.explanation.to_json()

    def to_frame(self):
        """One row per rule: its level, status, conditions and what would flip it."""
        import pandas as pd

        return pd.DataFrame([{
            "rule": r.id, "level": r.level, "label": r.level_label, "status": r.status,
            "deciding": r.deciding,
            "conditions": "; ".join(f"{c.text}: {c.detail} ({c.value})" for c in r.conditions),
            "flip": r.flip.text if r.flip else r.flip_note} for r in self.explanation.rules])

    def _repr_html_(self) -> str:
        from .report.html import explanation_fragment

        return explanation_fragment(self.explanation)

    def _repr_markdown_(self) -> str:
        return self.markdown()


@dataclass(frozen=True)
class Comparison:
    """Two policies compared on the same data; `str()` is what `regime diff` prints."""

    result: "DiffResult"

    def __getattr__(self, name: str):
        if name.startswith("__") or name == "result":
            raise AttributeError(name)
        return getattr(self.result, name)

    def __str__(self) -> str:
        from .report.comparison import render_text

        return render_text(self.result)

    def to_json(self) -> dict:
        return self.result.to_json()

    def to_frame(self):
        """Who moved: one row per organisation whose level differs, with the causes."""
        import pandas as pd

        from .report.comparison import moves_table

        headers, rows = moves_table(self.result)
        return pd.DataFrame(rows, columns=headers)

    def transitions(self):
        """The transition matrix: rows A's levels, columns B's, cells organisations."""
        import pandas as pd

        r = self.result
        return pd.DataFrame([list(row) for row in r.transitions],
                            index=pd.Index(list(r.levels_a), name="A"),
                            columns=pd.Index(list(r.levels_b), name="B"))

    def _repr_html_(self) -> str:
        from .report.html import diff_fragment

        return diff_fragment(self.result)


@dataclass(frozen=True)
class TestReport:
    """Policy test cases run through both engines, with coverage; `str()` is what
    `regime test` prints."""

    results: tuple["PolicyResult", ...]
    problems: tuple

    __test__ = False        # not a pytest test class, whatever its name

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.problems) and \
            all(r.ok for r in self.results)

    def __str__(self) -> str:
        from .analysis.testing import render_text

        return render_text(self.results, self.problems, [], "all")

    def to_frame(self):
        """One row per case: policy, case, file:line, status and the first problem."""
        import pandas as pd

        return pd.DataFrame(_case_rows(self.results))

    def _repr_html_(self) -> str:
        from .report.html import table_html

        rows = _case_rows(self.results)
        headers = ["policy", "case", "where", "status", "problem"]
        passed = sum(r["status"] == "passed" for r in rows)
        return (f"<p>{passed} of {len(rows)} cases passed</p>"
                + table_html(headers, [[r[h] for h in headers] for r in rows]))


def _case_rows(results) -> list[dict]:
    out = []
    for r in results:
        for c in r.cases:
            where = f"{c.file}:{c.pos.line}" if c.pos else c.file
            out.append({"policy": r.policy, "case": c.name, "where": where, "status": c.status,
                        "problem": c.diagnostics[0].message if c.diagnostics else ""})
    return out


# --- the functions ------------------------------------------------------------------------------

def evaluate(policy, data=None, *, params: Mapping[str, Any] | None = None, decisions=None,
             entities=None, engine: str = "auto",
             policy_path: Iterable[str] = ()) -> Evaluation:
    """Evaluate a policy (an id, a path, `id@revision` or a checked policy) over `data`: a
    path, a pandas DataFrame (long or wide), a pyarrow Table, a Panel, or None for the
    bundled sample. `params` overrides parameters ({"bottom_quartile": 20} or "20%");
    `decisions` is a decisions CSV or a DataFrame (entity,period,level,decided_by,reason)."""
    checked, layout, outcomes, _ = _evaluated(policy, data, entities, params, decisions, engine,
                                              policy_path)
    return Evaluation(outcomes, checked, layout)


def explain(policy, entity: str, data=None, *, period: str | None = None,
            params: Mapping[str, Any] | None = None, decisions=None, entities=None,
            engine: str = "auto", policy_path: Iterable[str] = ()) -> ExplainResult:
    """Why `entity` landed where it did in `period` (None: the latest)."""
    return evaluate(policy, data, params=params, decisions=decisions, entities=entities,
                    engine=engine, policy_path=policy_path).explain(entity, period)


def diff(a, b, data=None, *, period: str | None = None, decisions=None, entities=None,
         engine: str = "auto", policy_path: Iterable[str] = ()) -> Comparison:
    """Compare two policies (or two revisions of one: "oversight2021@HEAD~1") on the same
    data: the transition matrix, who moved and which change moved them."""
    from .analysis.diff import diff as _diff

    ca, rev_a = _policy(a, policy_path)
    cb, rev_b = _policy(b, policy_path)
    panel = to_panel(data, entities=entities, policy=cb)
    decisions_path, tmp = _decisions_path(decisions)
    try:
        return Comparison(_diff(ca, cb, panel, decisions=decisions_path, engine=engine,
                                period=period, revision_a=rev_a, revision_b=rev_b))
    finally:
        if tmp is not None:
            tmp.cleanup()


def test(*policies: str, policy_path: Sequence[str] = (), kernel: bool = True) -> TestReport:
    """Run policies' test cases (ids, files, test files or folders; all known policies when
    none is named) through the reference evaluator and, with kernel=True, the compiled
    kernel."""
    from .analysis.testing import run_tests

    results, problems = run_tests(policies, policy_path=policy_path, kernel=kernel)
    return TestReport(tuple(results), tuple(problems))


test.__test__ = False       # pytest collects functions named test* from imported modules
