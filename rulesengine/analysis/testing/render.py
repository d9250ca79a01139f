"""Reporting test runs: text, JSON, and coverage below a minimum."""

from __future__ import annotations

import json
from typing import Sequence


from ...diagnostics import Diagnostic
from .cases import PolicyResult


# --- reporting ---------------------------------------------------------------------------------

def coverage_shortfalls(results: Sequence[PolicyResult], minimum: float | None,
                        conditions: bool) -> list[str]:
    """One line per policy whose coverage is below `minimum` percent."""
    if minimum is None:
        return []
    out = []
    what = "condition" if conditions else "rule"
    for r in results:
        if r.coverage is None:
            continue
        value = r.coverage.condition_percent if conditions else r.coverage.rule_percent
        if value + 1e-9 < minimum:
            out.append(f"{r.file}: {what} coverage {value:.1f}% is below the minimum "
                       f"{minimum:g}%")
    return out


def render_text(results: Sequence[PolicyResult], problems: Sequence[Diagnostic],
                shortfalls: Sequence[str], gaps: str = "all") -> str:
    lines: list[str] = [d.render() for d in problems]
    for r in results:
        n = len(r.cases)
        lines.append(f"{r.file} ({r.policy}): {n} case{'s' * (n != 1)}")
        for d in r.diagnostics:
            lines.append(d.render())
        for c in r.cases:
            mark = {"passed": "ok   ", "failed": "FAIL ", "error": "ERROR"}[c.status]
            where = f"{c.file}:{c.pos.line}" if c.pos else c.file
            lines.append(f"  {mark} {c.name}" + ("" if c.status == "passed" else
                                                  f"  ({where})"))
            for d in c.diagnostics:
                lines.append(d.render())
        if r.coverage is not None:
            lines.append("  " + r.coverage.summary())
            if gaps in ("rules", "all"):
                lines += r.coverage.rule_gaps()
            if gaps == "all":
                lines += r.coverage.condition_gaps()
    passed = sum(r.count("passed") for r in results)
    failed = sum(r.count("failed") for r in results)
    errors = sum(r.count("error") for r in results)
    total = passed + failed + errors
    lines.append(f"{len(results)} polic{'y' if len(results) == 1 else 'ies'}, {total} "
                 f"case{'s' * (total != 1)}: {passed} passed, {failed} failed, {errors} "
                 f"malformed")
    lines += list(shortfalls)
    return "\n".join(lines)


def render_json(results: Sequence[PolicyResult], problems: Sequence[Diagnostic],
                shortfalls: Sequence[str], ok: bool) -> str:
    return json.dumps({
        "ok": ok,
        "summary": {"policies": len(results),
                    "passed": sum(r.count("passed") for r in results),
                    "failed": sum(r.count("failed") for r in results),
                    "errors": sum(r.count("error") for r in results)},
        "policies": [r.to_json() for r in results],
        "coverage_shortfalls": list(shortfalls),
        "diagnostics": [d.to_json() for d in problems],
    }, indent=2)
