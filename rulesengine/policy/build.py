"""Build model items from a validated document, parsing each embedded expression.

Syntax errors are collected, not raised, so one run of `regime check` reports all of them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from .. import codes
from ..diagnostics import MAX_NUMBER_CHARS, Pos, Reporter, elide
from ..lang import parser
from ..quantities import parse_quantity
from .document import Document
from .effective import rule_from_spec as rule_range
from .model import Define, Input, Level, Param, ParamValue, Rule, Scale, Stage, Timetable

_EXPECT = re.compile(r"\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+))\s*%?\s*\.\.\s*"
                     r"([-+]?(?:\d+(?:\.\d*)?|\.\d+))\s*%?\s*", re.ASCII)


def parse_expect(value) -> tuple[float, float] | None:
    """An input's `expect: LOW..HIGH` (the schema admits only that form) as two numbers."""
    if value is None:
        return None
    m = _EXPECT.fullmatch(str(value))
    return (float(m.group(1)), float(m.group(2))) if m else None


_UNIT_WORDS = {"percent": "percent", "%": "percent", "pct": "percent", "percentage": "percent",
               "gbp": "money", "£": "money", "money": "money", "pounds": "money",
               "count": "count"}


@dataclass
class Overlay:
    """The items one file declares (a whole policy, or the overrides of an `extends` file)."""

    data: dict
    levels: tuple[Level, ...] | None
    scales: dict[str, Scale]
    params: dict[str, Param]
    inputs: dict[str, Input]
    defines: dict[str, Define]
    rules: list[Rule]
    removed_rules: list[tuple[str, Pos]]
    applies_to: Define | None
    timetable: Timetable | None


def build_overlay(doc: Document, report: Reporter, ids: parser.NodeIds) -> Overlay:
    """Turn a schema-valid document into model items; syntax errors go to `report`."""
    src = doc.source
    data = doc.data

    def expr(path: tuple, text: str, name: str) -> Define:
        node = None
        locate = doc.locator(path)
        try:
            node = parser.parse(text, locate, ids)
        except parser.SyntaxProblem as p:
            line, col = locate(p.offset)
            end_line, end_col = locate(p.offset + max(p.length, 1) - 1)
            pos = Pos(line, col, end_col + 1 if end_line == line else None)
            report.error(p.message, pos, source=src, code=codes.SYNTAX, hint=p.hint)
        return Define(name, node, text, doc.pos(path), src)

    def quantity(value, path: tuple) -> tuple[float, str]:
        """A param value; one written too long or too large ("1000…0%") is reported here, as
        the YAML loader reports such plain numbers, and read as 0 (the load fails anyway)."""
        number, unit = parse_quantity(value)
        if len(str(value)) > MAX_NUMBER_CHARS or not math.isfinite(number):
            report.error(f"number too long ({len(str(value)):,} characters; the limit is "
                         f"{MAX_NUMBER_CHARS})" if len(str(value)) > MAX_NUMBER_CHARS else
                         f"number too large: {elide(str(value))}", doc.pos(path), source=src,
                         code=codes.NUMBER)
            return 0.0, unit
        return number, unit

    levels = None
    if "levels" in data:
        levels = tuple(
            Level(id=lv["id"], label=lv.get("label", lv["id"]), meaning=lv.get("meaning", ""),
                  index=i, decided_by=lv.get("decided_by"), pos=doc.pos(("levels", i, "id")),
                  origin=src)
            for i, lv in enumerate(data["levels"]))

    scales = {name: Scale(name, tuple(labels), doc.key(("scales", name)), src)
              for name, labels in data.get("scales", {}).items()}

    params: dict[str, Param] = {}
    for name, spec in data.get("params", {}).items():
        path = ("params", name)
        if not isinstance(spec, dict):
            spec = {"value": spec}
        unit_word = spec.get("unit")
        values = []
        if "values" in spec:
            for i, v in enumerate(spec["values"]):
                number, unit = quantity(v["value"], path + ("values", i, "value"))
                values.append(ParamValue(str(v["from"]), number))
        else:
            number, unit = quantity(spec["value"], path + ("value",) if "value" in spec and
                                    isinstance(data["params"][name], dict) else path)
            values.append(ParamValue(None, number))
        if unit_word is not None:
            unit = _UNIT_WORDS.get(str(unit_word).strip().lower(), str(unit_word))
        params[name] = Param(name, tuple(values), unit, spec.get("note"), spec.get("source"),
                             spec.get("published"), doc.key(path), src)

    inputs = {
        name: Input(name=name, type=spec["type"], better=spec.get("better"),
                    label=spec.get("label", name.replace("_", " ")), unit=spec.get("unit"),
                    scale=spec.get("scale"), aggregate=spec.get("aggregate"),
                    source=spec.get("source"), note=spec.get("note"),
                    pos=doc.key(("inputs", name)), origin=src,
                    effective_from=rule_range(spec)[0], effective_to=rule_range(spec)[1],
                    expect=parse_expect(spec.get("expect")))
        for name, spec in data.get("inputs", {}).items()}

    defines = {}
    for name, text in data.get("define", {}).items():
        d = expr(("define", name), text, name)
        defines[name] = Define(name, d.expr, text, doc.key(("define", name)), src)

    rules: list[Rule] = []
    removed: list[tuple[str, Pos]] = []
    for i, spec in enumerate(data.get("rules", [])):
        if spec.get("remove"):
            removed.append((spec["id"], doc.pos(("rules", i, "id"))))
            continue
        d = expr(("rules", i, "when"), spec["when"], spec["id"])
        rules.append(Rule(id=spec["id"], level=spec["level"], when=d.expr, text=spec["when"],
                          reason=spec.get("reason"), source=spec.get("source"),
                          note=spec.get("note"), pos=doc.pos(("rules", i, "id")),
                          level_pos=doc.pos(("rules", i, "level")), origin=src,
                          effective_from=rule_range(spec)[0],
                          effective_to=rule_range(spec)[1]))

    applies_to = None
    if "applies_to" in data:
        applies_to = expr(("applies_to",), data["applies_to"], "applies_to")

    timetable = None
    if "timetable" in data:
        t = data["timetable"]
        timetable = Timetable(t["starts"], tuple(
            Stage(s["id"], s.get("label", s["id"]), s["working_days"], s.get("source"),
                  s.get("note")) for s in t["stages"]))

    return Overlay(data, levels, scales, params, inputs, defines, rules, removed, applies_to,
                   timetable)
