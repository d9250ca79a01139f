"""The test-case model: a case, its expectations, and the results of running cases."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...diagnostics import Diagnostic, Pos
from ..coverage import Coverage


DEFAULT_TOLERANCE = 1e-9
MAX_CASE_PERIODS = 600          # fifty years of months: a case is small, a typo is not
MAX_CASE_ENTITIES = 1000
_PERIOD_EXAMPLE = {"month": "2024-03", "quarter": "2024-Q1", "year": "2024/25"}
_PLURAL = {"month": "months", "quarter": "quarters", "year": "financial years"}


# --- parsed cases ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Check:
    """One expectation of a case: `key` (level, fired, values, ...) with its expected value."""

    key: str
    expected: Any
    pos: Pos | None
    name: str | None = None         # the rule or value it is about
    tolerance: float = DEFAULT_TOLERANCE


@dataclass(frozen=True)
class Expectation:
    t: int
    e: int
    checks: tuple[Check, ...]


@dataclass(frozen=True)
class Case:
    """A test case read and validated against its policy, ready to run."""

    name: str
    file: str
    pos: Pos
    period_kind: str
    start: int                          # ordinal of the first period
    n_periods: int
    entities: Any                       # data.panel.Entities
    values: dict[str, np.ndarray]       # input -> [P, E] (ratings as positions on the scale)
    params: dict[str, float]
    decisions: np.ndarray               # [P, E] level index or NaN
    expectations: tuple[Expectation, ...]


@dataclass
class CaseResult:
    name: str
    file: str
    pos: Pos | None
    status: str                         # passed | failed | error (malformed)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"name": self.name, "file": self.file,
                "line": self.pos.line if self.pos else None,
                "col": self.pos.col if self.pos else None, "status": self.status,
                "diagnostics": [d.to_json() for d in self.diagnostics]}


@dataclass
class PolicyResult:
    """The cases of one policy, run, with the coverage they reached."""

    policy: str
    file: str
    cases: list[CaseResult] = field(default_factory=list)
    coverage: Coverage | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)   # the policy or a test file

    def count(self, status: str) -> int:
        return sum(c.status == status for c in self.cases)

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics) and \
            all(c.status == "passed" for c in self.cases)

    def to_json(self) -> dict:
        return {"policy": self.policy, "file": self.file, "ok": self.ok,
                "passed": self.count("passed"), "failed": self.count("failed"),
                "errors": self.count("error"),
                "cases": [c.to_json() for c in self.cases],
                "coverage": self.coverage.to_json() if self.coverage else None,
                "diagnostics": [d.to_json() for d in self.diagnostics]}


@dataclass(frozen=True)
class ReadCase:
    """A case as read: the Case (None when malformed), its name, position and problems."""

    case: Case | None
    name: str
    pos: Pos | None
    diagnostics: tuple[Diagnostic, ...]
