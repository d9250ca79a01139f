"""A resolved policy written back as one self-contained policy file (no `extends`).

Used to build policy variants (diff attribution reverts one change at a time) and to show a
policy after its `extends` chain is merged. Loading the text again gives the same policy."""

from __future__ import annotations

from ..quantities import json_number
from .effective import GENERATED_PREFIX
from .model import Policy


def policy_data(policy: Policy) -> dict:
    """The policy as plain data in the file format."""
    data: dict = {"policy": policy.id, "title": policy.title}
    if policy.version:
        data["version"] = policy.version
    effective = {k: v for k, v in (("from", policy.effective_from),
                                   ("to", policy.effective_to)) if v}
    if effective:
        data["effective"] = effective
    if policy.sources:
        data["sources"] = list(policy.sources)
    if policy.entity:
        data["entity"] = list(policy.entity) if len(policy.entity) > 1 else policy.entity[0]
    if policy.applies_to is not None:
        data["applies_to"] = policy.applies_to.text
    if policy.period:
        data["period"] = "fy_quarter" if policy.period_labels == "nhs" else policy.period
    if policy.peer_group:
        data["peer_group"] = policy.peer_group
    data["levels"] = [_drop_none({"id": lv.id, "label": lv.label, "meaning": lv.meaning or None,
                                  "decided_by": lv.decided_by}) for lv in policy.levels]
    if policy.default:
        data["default"] = policy.default
    data["decide"] = policy.decide
    if policy.scales:
        data["scales"] = {name: list(s.labels) for name, s in policy.scales.items()}
    # a rule's `effective:` range is written on the rule, not as the param the checker made of it
    params = {name: p for name, p in policy.params.items()
              if not name.startswith(GENERATED_PREFIX)}
    if params:
        data["params"] = {name: _param(p) for name, p in params.items()}
    if policy.inputs:
        data["inputs"] = {name: _drop_none({
            "type": i.type, "better": i.better, "label": i.label, "unit": i.unit,
            "scale": i.scale, "aggregate": i.aggregate, "source": i.source, "note": i.note,
            "effective": _range(i.effective_from, i.effective_to),
            "expect": None if i.expect is None else "..".join(str(json_number(x)) for x in i.expect)})
            for name, i in policy.inputs.items()}
    if policy.defines:
        data["define"] = {name: d.text for name, d in policy.defines.items()}
    data["rules"] = [_drop_none({"id": r.id, "level": r.level, "when": r.text,
                                 "reason": r.reason, "source": r.source, "note": r.note,
                                 "effective": _range(r.effective_from, r.effective_to)})
                     for r in policy.rules]
    if policy.timetable is not None:
        data["timetable"] = {"starts": policy.timetable.starts, "stages": [
            _drop_none({"id": s.id, "label": s.label, "working_days": s.working_days,
                        "source": s.source, "note": s.note}) for s in policy.timetable.stages]}
    return data


def _range(date_from, date_to) -> dict | None:
    out = {k: v for k, v in (("from", date_from), ("to", date_to)) if v}
    return out or None


def _param(p) -> dict:
    out: dict = {}
    if len(p.values) == 1 and p.values[0].start is None:
        out["value"] = json_number(p.values[0].value)
    else:
        out["values"] = [{"from": v.start, "value": json_number(v.value)} for v in p.values]
    out["unit"] = p.unit
    for key in ("note", "source", "published"):
        value = getattr(p, key)
        if value is not None:
            out[key] = value
    return out


def _drop_none(d: dict) -> dict:
    return {k: v for k, v in d.items() if v is not None}


def policy_text(policy: Policy) -> str:
    """The policy as YAML text."""
    # yaml: only when a policy is written out (dump_yaml quotes so that it reads back the same)
    from .document import dump_yaml

    return dump_yaml(policy_data(policy))
