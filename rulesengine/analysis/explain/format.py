"""Values as an explanation shows them: in their unit, rounded as the policy's data is."""

from __future__ import annotations

import math

from ...check.checker import CheckedPolicy
from ...engine.outcomes import Outcomes
from ...lang.types import Type
from ...quantities import money_text, rounded_text

# --- formatting ------------------------------------------------------------------------------

format_money = money_text     # the name explain has always exported


class Format:
    def __init__(self, checked: CheckedPolicy, outcomes: Outcomes) -> None:
        self.c = checked
        self.p = checked.policy
        self.level_labels = dict(zip(outcomes.level_ids, outcomes.level_labels))

    def typed(self, x, t: Type | None):
        """The value for JSON: numbers as numbers, truth values as booleans, ratings and
        levels by id, None when missing."""
        if isinstance(x, str):
            return x
        if x is None or (isinstance(x, float) and math.isnan(x)):
            return None
        kind = t.kind if t is not None else "number"
        if kind == "bool":
            return x == 1
        if kind == "rating":
            labels = self.p.scales[t.scale].labels
            return labels[int(x)] if 0 <= int(x) < len(labels) else float(x)
        if kind == "level":
            ids = [lv.id for lv in self.p.levels]
            return ids[int(x)] if 0 <= int(x) < len(ids) else float(x)
        if kind == "count" and float(x).is_integer():
            return int(x)
        return float(x)

    def value(self, x, t: Type | None) -> str:
        if isinstance(x, str):
            return f'"{x}"'
        if x is None or (isinstance(x, float) and math.isnan(x)):
            return "unknown" if t is not None and t.kind == "bool" else "missing"
        kind = t.kind if t is not None else "number"
        if kind == "bool":
            return "true" if x == 1 else "false"
        if kind == "percent":
            return f"{rounded_text(x, 1)}%"
        if kind == "money":
            return format_money(x)
        if kind == "count":
            return rounded_text(x, 1)
        if kind == "rating":
            labels = self.p.scales[t.scale].labels
            i = int(x)
            return labels[i].replace("_", " ") if 0 <= i < len(labels) else str(x)
        if kind == "level":
            ids = [lv.id for lv in self.p.levels]
            i = int(x)
            return self.level_labels.get(ids[i], ids[i]) if 0 <= i < len(ids) else str(x)
        return rounded_text(x, 3 if abs(x) < 10 else 2)

    def change(self, delta: float, t: Type) -> str:
        a = abs(delta)
        if t.kind == "percent":
            return f"{rounded_text(a, 1)} point{'s' if a != 1 else ''}"
        if t.kind == "money":
            return format_money(a)
        return self.value(a, t)


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
