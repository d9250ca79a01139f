"""Outcomes: what evaluating a policy over a panel produces, for every entity and period.

Both backends (the NumPy reference evaluator and the compiled kernel) fill the same arrays;
the differential tests compare them field by field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from ..data.decisions import Decision
from ..data.panel import Entities
from ..diagnostics import RegimeError
from ..periods import PeriodError, format_period, parse_period
from ..provenance import Provenance  # the record every output carries; defined once there

NO_LEVEL = -1


def n_bytes(n_rules: int) -> int:
    """Bytes a cell needs for one bit per rule (at least one, so every cell has a row)."""
    return max(1, (n_rules + 7) // 8)


# One bit per rule and cell, rule i being bit i % 8 of byte i // 8 (NumPy's little-endian
# bit order): a byte a cell for up to eight rules. A cell's outputs are written once per
# evaluation into fresh arrays, so their size is paid in page faults as much as in stores
# (64-bit words cost a 4-rule policy two thirds of its kernel call).

def rule_bits(mask: np.ndarray) -> np.ndarray:
    """Rules' booleans [rules, *cells] as bits [*cells, n_bytes] (as the kernels write them)."""
    R = mask.shape[0]
    out = np.zeros((n_bytes(R),) + mask.shape[1:], np.uint8)
    # a rule at a time over contiguous cells: np.packbits across the rules' axis reads it
    # with a stride, five to nine times slower
    for i in range(R):
        out[i >> 3] |= mask[i].view(np.uint8) << (i & 7)
    return np.ascontiguousarray(np.moveaxis(out, 0, -1))


def rule_mask(bits: np.ndarray, i: int) -> np.ndarray:
    """bool [*cells]: rule i's bit in bits [*cells, n_bytes]."""
    return ((bits[..., i >> 3] >> (i & 7)) & 1).astype(bool)


def rule_bit(cell: np.ndarray, i: int) -> bool:
    """Rule i's bit in one cell's bytes."""
    return bool((int(cell[i >> 3]) >> (i & 7)) & 1)


def set_rules(cell: np.ndarray, n: int) -> np.ndarray:
    """The indexes of the rules, among the first n, whose bit is set in one cell's bytes."""
    return np.flatnonzero(np.unpackbits(cell, bitorder="little")[:n])


@dataclass(frozen=True)
class RawOutcomes:
    """The arrays a backend writes, [periods, entities] unless noted."""

    computed: np.ndarray        # int16: level index from the rules (0 = best)
    level: np.ndarray           # int16: decided level where a decision exists, else computed
    candidate: np.ndarray       # int16: judgement level a rule made it a candidate for, or -1
    fired: np.ndarray           # uint8 [P, E, n_bytes]: rule i's condition was true (rule_bits)
    unknown: np.ndarray         # uint8 [P, E, n_bytes]: rule i's condition was unknown
    incomplete: np.ndarray      # bool: an unknown rule could have made the level worse
    subject: np.ndarray         # bool: the entity is one the policy decides on, this period
    engine: str = ""            # the engine that computed them: reference, vectorised, fused

    def equal(self, other: "RawOutcomes") -> bool:
        return all(np.array_equal(getattr(self, f), getattr(other, f)) for f in
                   ("computed", "level", "candidate", "fired", "unknown", "incomplete",
                    "subject"))


@dataclass(frozen=True)
class PeriodFrame:
    """The periods an evaluation covers, known before any outcome is computed: all that
    choosing periods (`select_periods`, `policy.effective.default_period`, `check_periods`)
    reads of Outcomes, which have the same fields."""

    period_kind: str
    period_labels: tuple[str, ...]
    in_effect: tuple[bool, ...] = ()    # per period: inside the policy's `effective:` range
    effective_text: str = "always"

    @property
    def n_periods(self) -> int:
        return len(self.period_labels)


@dataclass(frozen=True)
class Outcomes:
    """A policy's outcomes over a panel, with the names needed to read them."""

    raw: RawOutcomes
    level_ids: tuple[str, ...]
    level_labels: tuple[str, ...]
    rule_ids: tuple[str, ...]
    period_kind: str
    period_labels: tuple[str, ...]
    entities: Entities
    decisions: dict[tuple[int, int], Decision] = field(default_factory=dict)  # (t, e) -> decision
    provenance: Provenance | None = None
    # per period: inside the policy's `effective:` range (empty = every period is)
    in_effect: tuple[bool, ...] = ()
    effective_text: str = "always"     # the range in words, for warnings

    @property
    def n_periods(self) -> int:
        return len(self.period_labels)

    @property
    def engine(self) -> str:
        """The engine that computed the outcomes (reference, vectorised or fused)."""
        return self.raw.engine or (self.provenance.backend if self.provenance else "")

    def fired_rules(self, t: int, e: int) -> list[str]:
        return [self.rule_ids[i] for i in set_rules(self.raw.fired[t, e], len(self.rule_ids))]

    def unknown_rules(self, t: int, e: int) -> list[str]:
        return [self.rule_ids[i] for i in set_rules(self.raw.unknown[t, e], len(self.rule_ids))]

    def rows(self, periods: Sequence[int] | None = None) -> list[dict]:
        """One dict per decided-on entity and period: the eval table's rows."""
        out = []
        for t in (range(self.n_periods) if periods is None else periods):
            for e in np.flatnonzero(self.raw.subject[t]):
                out.append(self.row(t, int(e)))
        return out

    def row(self, t: int, e: int) -> dict:
        r = self.raw
        lvl = int(r.level[t, e])
        comp = int(r.computed[t, e])
        cand = int(r.candidate[t, e])
        d = self.decisions.get((t, e))
        return {
            "period": self.period_labels[t],
            "entity": self.entities.ids[e],
            "name": self.entities.names[e],
            "type": self.entities.types[e],
            "level": self.level_ids[lvl],
            "label": self.level_labels[lvl],
            "computed": self.level_ids[comp],
            "candidate": self.level_ids[cand] if cand >= 0 else None,
            "candidate_label": self.level_labels[cand] if cand >= 0 else None,
            "fired": self.fired_rules(t, e),
            "unknown": self.unknown_rules(t, e),
            "incomplete": bool(r.incomplete[t, e]),
            "decided": d is not None,
            "decided_by": d.decided_by if d else None,
            "decision_reason": d.reason if d else None,
            "in_effect": bool(self.in_effect[t]) if self.in_effect else True,
        }

    def counts(self, t: int) -> dict[str, int]:
        """Entities per level in period t (decided-on entities only), every level listed."""
        lv = self.raw.level[t][self.raw.subject[t]]
        return {self.level_ids[i]: int(np.sum(lv == i)) for i in range(len(self.level_ids))}

    def to_frame(self):
        """The rows as a pandas DataFrame (pandas must be installed)."""
        try:
            import pandas as pd
        except ImportError as e:  # pandas is optional
            raise ImportError("to_frame() needs pandas: pip install pandas") from e
        return pd.DataFrame(self.rows())


@dataclass(frozen=True)
class Decided:
    """What the rules' fired/unknown masks decide, per entity (see decide())."""

    computed: np.ndarray        # int: level index from the rules
    incomplete: np.ndarray      # bool
    candidate: np.ndarray       # int: judgement level it is a candidate for, or NO_LEVEL
    deciding: np.ndarray | None     # bool [R, E]: the fired rules that set the computed level
    worsening: np.ndarray | None    # bool [R, E]: the unknown rules that make it incomplete


def decide(fired: np.ndarray, unknown: np.ndarray, rule_levels: np.ndarray,
           rule_judgement: np.ndarray, default_level: int, first: bool, *,
           per_rule: bool = True) -> Decided:
    """The one place where fired and unknown rules become a level, for every entity at once.

    fired, unknown: bool [R, E] (or [R, P, E]: any cells after the rules). `first` takes the first fired rule in file order, otherwise
    (worst, collect) the worst fired level; judgement rules only make a candidate (for the
    worst judgement level fired, if worse than the computed level; else, when the computed
    level is the default, for a better judgement level fired, such as a segment 1); an unknown
    rule that could have made the level worse (with `first`: only one before the deciding
    rule, since a later one could not have decided it) or a judgement rule that could have made
    it a candidate for something worse leaves the outcome incomplete. The reference evaluator
    and explain call this; the compiled kernel's lib.combine mirrors it per entity and the
    differential tests hold the two equal.

    `per_rule=False` (the engines, over every cell at once) leaves `deciding` and
    `worsening` None for worst and collect. The worst levels are found a level at a time
    (whether any rule of level L fired is one `any` over those rules): a policy has a few
    levels and may have thousands of rules, and integer arrays of rules x cells were most of
    a 2,000-rule policy's evaluation."""
    rule_levels = np.asarray(rule_levels)
    judged_rule = np.asarray(rule_judgement, dtype=bool)
    R = fired.shape[0]
    column = (R,) + (1,) * (fired.ndim - 1)       # one value per rule, over every cell
    levels = rule_levels.reshape(column)
    normal = ~judged_rule.reshape(column)
    if first:
        order = np.arange(R).reshape(column)
        hits = fired & normal
        has = hits.any(axis=0)
        first_hit = np.where(has, hits.argmax(axis=0), R)
        comp = np.where(has, rule_levels[np.minimum(first_hit, max(R - 1, 0))] if R else 0,
                        default_level)
        considered = order < first_hit[None]
        deciding = hits & (order == first_hit[None])
    else:  # worst and collect: the worst level among fired rules
        worst = _worst_level(fired, ~judged_rule, rule_levels)
        comp = np.where(worst >= 0, worst, default_level)
        considered = True
        deciding = None
    judged = _worst_level(fired, judged_rule, rule_levels)
    # a candidate for a worse level; or, where the rules found nothing worse than the default,
    # for a better one (segment 1 of SOF 2021/22 was judged: the rule only flags it)
    cand = np.where((judged > comp) | ((judged >= 0) & (judged < comp)
                                       & (comp == default_level)), judged, NO_LEVEL)
    # an unknown judgement rule could have made it a candidate for something worse
    indicated = np.maximum(comp, cand)
    if not (per_rule or first):
        incomplete = (_any_above(unknown, ~judged_rule, rule_levels, comp)
                      | _any_above(unknown, judged_rule, rule_levels, indicated))
        return Decided(comp, incomplete, cand, None, None)
    if deciding is None:
        deciding = fired & normal & (levels == comp[None])
    worsening = ((unknown & normal & considered & (levels > comp[None]))
                 | (unknown & ~normal & (levels > indicated[None])))
    return Decided(comp, worsening.any(axis=0), cand, deciding, worsening)


def _rules_by_level(of: np.ndarray, rule_levels: np.ndarray):
    """(level, the indexes of the rules of that level among `of`), levels ascending; found
    once per policy (the reference engine decides period by period, a diff a dozen times)."""
    key = (of.tobytes(), rule_levels.astype(np.int64).tobytes())
    hit = _groups.get(key)
    if hit is None:
        hit = tuple((int(level), np.flatnonzero(of & (rule_levels == level)))
                    for level in np.unique(rule_levels[of]))
        if len(_groups) > 64:
            _groups.clear()
        _groups[key] = hit
    return hit


_groups: dict[tuple[bytes, bytes], tuple] = {}


def _worst_level(mask: np.ndarray, of: np.ndarray, rule_levels: np.ndarray) -> np.ndarray:
    """Per cell, the worst level among the rules `of` whose mask is set, else -1."""
    out = np.full(mask.shape[1:], -1, np.int64)
    for level, rules in _rules_by_level(of, rule_levels):
        out[mask[rules].any(axis=0)] = level        # ascending: the last level set is worst
    return out


def _any_above(mask: np.ndarray, of: np.ndarray, rule_levels: np.ndarray,
               bound: np.ndarray) -> np.ndarray:
    """Per cell, whether a rule `of` whose mask is set has a level worse than `bound`."""
    out = np.zeros(mask.shape[1:], bool)
    for level, rules in _rules_by_level(of, rule_levels):
        out |= mask[rules].any(axis=0) & (level > bound)
    return out


def select_periods(outcomes, period: str | None) -> list[int]:
    """The period indices `--period` names: one period, `latest` (the default) or `all`; an
    int is a period index (the Python API's)."""
    if isinstance(period, int) and not isinstance(period, bool):
        if not -outcomes.n_periods <= period < outcomes.n_periods:
            raise RegimeError(f"period index {period}: the data have {outcomes.n_periods} "
                              "periods")
        return [period % outcomes.n_periods]
    if period is not None:
        period = period.strip()
        period = period.lower() if period.lower() in ("latest", "all") else period
    if period is None or period == "latest":
        return [outcomes.n_periods - 1]
    if period == "all":
        return list(range(outcomes.n_periods))

    try:
        ordinal = parse_period(period, outcomes.period_kind).ordinal
    except PeriodError as e:
        raise RegimeError(f"--period: {e}") from None
    labels = list(outcomes.period_labels)
    label = format_period(outcomes.period_kind, ordinal)
    if label not in labels:
        raise RegimeError(f"--period {period}: the data covers {labels[0]} to {labels[-1]}")
    return [labels.index(label)]
