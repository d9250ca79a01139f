"""Effective dates: when a policy, a rule or an input was in force.

A regime applies only between the dates its policy's `effective:` range gives (the SOF 2021/22
from 1 July 2021 to 30 June 2022); a rule may come in or go out within a policy's life (the
quality ground of trust special administration exists only from the Care Act 2014).

Design (no engine code): a rule's `effective:` range is *desugared* at check time into a
compiler-generated, effective-dated param that is 1 in the periods the rule is in force and 0
outside them, folded into the rule's condition as `in force and (condition)`. Effective-dated
params are already resolved per period for both engines (`engine/params.py`), and Kleene `and`
makes the rule false (not unknown) outside its range, so the reference evaluator and the numba
kernel agree exactly with no new engine code, and an out-of-range rule never marks an outcome
incomplete. The generated param's name is the compiler's own (`in_force__<rule id>`) and its
note says where it came from.

A period is *in effect* when any day of it falls within the range: the quarter 2025-Q2
(April-June 2025) is in effect for NHS Oversight Framework 2025/26, which began on 26 June 2025
and first segmented on Q1 2025/26 data.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import replace

import numpy as np

from ..diagnostics import RegimeError
from ..lang import ast
from ..periods import Period, convert, first_month, format_period, parse_period
from .model import Param, ParamValue, Policy, Rule

GENERATED_PREFIX = "in_force__"


def _month(date: str | None) -> int | None:
    """The month ordinal of a date written 2021-07-01 (or 2021-07)."""
    if date is None or str(date).strip() in ("", "null", "None"):
        return None
    text = str(date).strip()
    parts = text.split("-")
    return int(parts[0]) * 12 + int(parts[1]) - 1


def _last_month(period: Period) -> int:
    start = first_month(period)
    return start + {"month": 0, "quarter": 2, "year": 11}[period.kind]


def period_range(date_from, date_to, kind: str) -> tuple[int | None, int | None]:
    """The first and last period ordinals of `kind` with at least one day in the range
    (None = open-ended)."""
    lo = _month(date_from)
    hi = _month(date_to)
    first = convert(Period("month", lo), kind).ordinal if lo is not None else None
    last = convert(Period("month", hi), kind).ordinal if hi is not None else None
    return first, last


def in_effect_mask(date_from, date_to, kind: str, start: int, n_periods: int) -> np.ndarray:
    """Per period ordinal start..start+n-1: is it (partly) inside the range?"""
    first, last = period_range(date_from, date_to, kind)
    ordinals = np.arange(start, start + n_periods)
    mask = np.ones(n_periods, dtype=bool)
    if first is not None:
        mask &= ordinals >= first
    if last is not None:
        mask &= ordinals <= last
    return mask


def policy_mask(policy: Policy, kind: str, start: int, n_periods: int) -> np.ndarray:
    return in_effect_mask(policy.effective_from, policy.effective_to, kind, start, n_periods)


def describe_range(date_from, date_to) -> str:
    """'2021-07-01 to 2022-06-30', 'from 2025-06-26', 'until 2007-03-31' or 'always'."""
    f = None if _month(date_from) is None else str(date_from)
    t = None if _month(date_to) is None else str(date_to)
    if f and t:
        return f"{f} to {t}"
    if f:
        return f"from {f}"
    if t:
        return f"until {t}"
    return "always"


def policy_range_text(policy: Policy) -> str:
    return describe_range(policy.effective_from, policy.effective_to)


def outside_warning(policy: Policy, labels: list[str]) -> str | None:
    """A warning naming the range when any of `labels` (periods) is outside it, else None."""
    if not labels:
        return None
    shown = ", ".join(labels[:4]) + (f" and {len(labels) - 4} more" if len(labels) > 4 else "")
    return (f"{shown} {'is' if len(labels) == 1 else 'are'} outside the period policy "
            f"'{policy.id}' was in force ({policy_range_text(policy)}): the regime did not "
            f"apply then, so these outcomes are hypothetical")


def latest_in_effect(policy: Policy, kind: str, start: int, n_periods: int) -> int | None:
    """Index of the latest period the data cover inside the policy's range, or None."""
    mask = policy_mask(policy, kind, start, n_periods)
    idx = np.flatnonzero(mask)
    return int(idx[-1]) if idx.size else None


# --- rule-level ranges: desugared into generated params ----------------------------------------

def _date_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.strftime("%Y-%m-%d")
    text = str(value).strip()
    return None if text in ("", "null", "None") else text


def _after(date: str) -> str:
    """The month after the month of `date`, as a month label (the first period a rule ending
    on `date` is out of force, at monthly resolution: a period is in force when any day of
    it is in the range)."""
    m = _month(date) + 1
    return format_period("month", m)


def desugar(policy: Policy) -> Policy:
    """The policy with every rule's `effective:` range folded into its condition through a
    generated param; a policy without rule ranges is returned unchanged. Idempotent: a folded
    rule keeps its dates (so the policy can be written back as a file) and is marked by its
    `effective_text`."""
    def pending(rule: Rule) -> bool:
        return (rule.effective_from is not None or rule.effective_to is not None) \
            and rule.effective_text is None and rule.when is not None

    if not any(pending(r) for r in policy.rules):
        return policy
    params = dict(policy.params)
    rules = []
    roots = [d.expr for d in policy.defines.values() if d.expr is not None]
    roots += [r.when for r in policy.rules if r.when is not None]
    if policy.applies_to is not None and policy.applies_to.expr is not None:
        roots.append(policy.applies_to.expr)
    next_id = 1 + max((n.nid for root in roots for n in ast.walk(root)), default=0)
    for rule in policy.rules:
        if not pending(rule):
            rules.append(rule)
            continue
        name = GENERATED_PREFIX + rule.id
        values = [ParamValue(None, 1.0 if rule.effective_from is None else 0.0)]
        if rule.effective_from is not None:
            values.append(ParamValue(format_period("month", _month(rule.effective_from)), 1.0))
        if rule.effective_to is not None:
            values.append(ParamValue(_after(rule.effective_to), 0.0))
        rng = describe_range(rule.effective_from, rule.effective_to)
        params[name] = Param(name, tuple(values), "number",
                             f"generated from rule '{rule.id}': 1 while it is in force ({rng}), "
                             "0 outside", None, None, rule.pos, rule.origin)
        # The synthetic nodes point at the rule's id (their position) and span the whole
        # condition text, so explain and coverage show the rule's own words for them.
        span = (0, len(rule.text))
        # Fresh ids above every id in the policy, so no side table keyed by id collides.
        nid, next_id = next_id, next_id + 4
        flag = ast.Binary(nid, rule.pos, span, "==", ast.Name(nid + 1, rule.pos, span, name),
                          ast.Number(nid + 2, rule.pos, span, 1.0, "number"))
        when = ast.Binary(nid + 3, rule.pos, span, "and", flag, rule.when)
        rules.append(replace(rule, when=when, effective_text=rng))
    return replace(policy, params=params, rules=tuple(rules))


def rule_from_spec(spec: dict) -> tuple[str | None, str | None]:
    eff = spec.get("effective") or {}
    return _date_text(eff.get("from")), _date_text(eff.get("to"))


__all__ = ["period_range", "in_effect_mask", "policy_mask", "describe_range", "policy_range_text",
           "outside_warning", "latest_in_effect", "desugar", "rule_from_spec", "GENERATED_PREFIX",
           "Rule"]


# --- periods chosen for a command --------------------------------------------------------------

def default_period(outcomes) -> int:
    """The latest period the data cover inside the policy's range (the latest period of all
    when none is inside it: the caller then warns)."""
    inside = [t for t, ok in enumerate(outcomes.in_effect) if ok] if outcomes.in_effect else []
    if inside:
        return inside[-1]
    return outcomes.n_periods - 1


def check_periods(outcomes, periods, policy_id: str, *, strict: bool = False,
                  option: str = "--period") -> str | None:
    """A warning naming the policy's range when any of `periods` is outside it (None when all
    are inside); with `strict`, a RegimeError instead."""

    if not outcomes.in_effect:
        return None
    outside = [outcomes.period_labels[t] for t in periods if not outcomes.in_effect[t]]
    if not outside:
        return None
    shown = ", ".join(outside[:4]) + (f" and {len(outside) - 4} more" if len(outside) > 4
                                      else "")
    inside = [lab for lab, ok in zip(outcomes.period_labels, outcomes.in_effect) if ok]
    cover = ("the data cover none of it" if not inside else
             f"the data's period inside it is {inside[0]}" if len(inside) == 1 else
             f"the data's periods inside it are {inside[0]} to {inside[-1]}")
    text = (f"{shown} {'is' if len(outside) == 1 else 'are'} outside the dates policy "
            f"'{policy_id}' was in force ({outcomes.effective_text}); {cover}")
    if strict:
        raise RegimeError(f"{option}: {text} (--strict-dates refuses periods outside them)")
    return text + ": the regime did not apply then, so these outcomes are hypothetical"


def period_in_effect(policy: Policy, label: str, kind: str) -> bool:
    ordinal = parse_period(label, kind).ordinal
    return bool(in_effect_mask(policy.effective_from, policy.effective_to, kind, ordinal, 1)[0])


def diff_warning(a: Policy, b: Policy, label: str) -> str | None:
    """For `diff`: which of the two policies was not in force in the compared period."""
    kind = (b.period or a.period or "month")
    try:
        out = [p for p in (a, b) if not period_in_effect(p, label, p.period or kind)]
    except Exception:       # a label in another kind than a policy's: nothing to say
        return None
    if not out:
        return None
    parts = "; ".join(f"'{p.id}' was in force {policy_range_text(p)}" for p in out)
    return f"period {label} is outside the effective dates of {len(out)} of the two policies ({parts})"
