"""Explain an outcome: why an organisation landed where it did, in words an analyst can paste
into a briefing.

For one entity and period: the level and the rule(s) that decided it; for every rule whether it
fired, did not, or was unknown, with each condition's operands, their values, thresholds and the
peer context of ranks; the smallest change to one input that would flip each rule (found by
re-evaluating, and checked by re-evaluating with the margin applied); the missing data that left
the outcome incomplete; and a judgement decision if one overrides.
"""

from __future__ import annotations

from .explainer import Explainer, explain
from .format import format_money, ordinal
from .model import Condition, Crossing, Explanation, Flip, Move, Operand, RuleExplanation
from .render import Markup, outcome_notes, render_markdown, render_text

__all__ = ["Condition", "Crossing", "Explainer", "Explanation", "Flip", "Markup", "Move",
           "Operand", "RuleExplanation", "explain", "format_money", "ordinal", "outcome_notes",
           "render_markdown", "render_text"]
