"""Validate a policy document against the shipped JSON Schema, with messages for authors.

jsonschema's own messages name schema keywords; these name the policy's keys and values,
point at the offending key or value, and suggest the closest valid word.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files

import jsonschema
from jsonschema.exceptions import ValidationError

from ..diagnostics import Diagnostic, Reporter, did_you_mean
from .document import Document

SCHEMA_RESOURCE = "schema.json"


@lru_cache(maxsize=1)
def policy_schema() -> dict:
    """The policy file JSON Schema shipped inside the package."""
    return json.loads(files("rulesengine.policy").joinpath(SCHEMA_RESOURCE).read_text("utf-8"))


@lru_cache(maxsize=1)
def _validator() -> jsonschema.protocols.Validator:
    schema = policy_schema()
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def validate(doc: Document) -> list[Diagnostic]:
    """Every schema violation in `doc`, one diagnostic each, in file order."""
    report = Reporter(doc.source)
    seen: set[tuple] = set()
    for error in _validator().iter_errors(doc.data):
        for leaf in _leaves(error):
            path = tuple(leaf.absolute_path)
            message, at_key, key = _message(leaf)
            if (path, message) in seen:
                continue
            seen.add((path, message))
            pos = doc.key(path + (key,)) if key is not None else (
                doc.key(path) if at_key else doc.pos(path))
            report.error(message, pos, code="schema")
    return report.diagnostics


def _leaves(error: ValidationError) -> list[ValidationError]:
    """For oneOf/anyOf failures, the branch errors that best explain the problem."""
    if error.validator not in ("oneOf", "anyOf") or not error.context:
        return [error]
    # A branch whose type matched is the one the author meant; report its errors.
    typed = [e for e in error.context if e.validator != "type" and
             not (e.validator in ("pattern", "const") and not e.relative_path)]
    deeper = [e for e in typed if e.relative_path or e.validator in ("required", "additionalProperties")]
    if deeper:
        depth = max(len(e.relative_path) for e in deeper)
        return [leaf for e in deeper if len(e.relative_path) == depth for leaf in _leaves(e)]
    return [error]


def _where(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "the policy"


def _type_name(value) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "empty" if value is None else type(value).__name__


_EXPECTED = {"string": "a string", "number": "a number", "integer": "a whole number",
             "array": "a list", "object": "a mapping", "boolean": "true or false", "null": "empty"}


def _message(e: ValidationError) -> tuple[str, bool, str | None]:
    """(message, point at the key rather than the value, key inside the object to point at)."""
    path = tuple(e.absolute_path)
    where = _where(path)
    v = e.validator
    if v == "additionalProperties":
        allowed = list(e.schema.get("properties", {}))
        extra = [k for k in e.instance if k not in allowed]
        key = extra[0]
        return (f"unknown key '{key}' in {where}{did_you_mean(key, allowed)}", False, key)
    if v == "required":
        missing = e.message.split("'")[1]
        return f"{where} is missing the required key '{missing}'", True, None
    if v == "type":
        expected = e.validator_value
        expected = [expected] if isinstance(expected, str) else expected
        names = " or ".join(_EXPECTED.get(t, t) for t in expected)
        return f"{where} must be {names}, not {_type_name(e.instance)}", False, None
    if v == "enum":
        options = [str(o) for o in e.validator_value]
        return (f"{where}: '{e.instance}' is not one of {', '.join(options)}"
                f"{did_you_mean(str(e.instance), options)}", False, None)
    if v == "pattern":
        if e.schema.get("pattern", "").startswith("^[A-Za-z_]"):
            return (f"{where}: '{e.instance}' is not a valid name (use letters, digits and '_', "
                    "not starting with a digit)", False, None)
        if "0-9]{4}" in e.schema.get("pattern", ""):
            return f"{where}: '{e.instance}' is not a date (write YYYY-MM-DD)", False, None
        return f"{where}: '{e.instance}' is not in the expected form", False, None
    if v in ("minItems", "minLength"):
        return f"{where} must not be empty", False, None
    if v == "maxLength":
        return f"{where} is too long (at most {e.validator_value} characters)", False, None
    if v == "minimum":
        return f"{where} must be at least {e.validator_value}", False, None
    if v == "const":
        return f"{where} must be {json.dumps(e.validator_value)}", False, None
    if v in ("oneOf", "anyOf"):
        if path and path[0] == "params":
            return (f"{where} must be a number, a percentage such as '25%', an amount such as "
                    "'£1.5m', or a mapping with 'value' (or 'values')", False, None)
        if path and path[0] == "rules":
            return f"{where} needs 'level' and 'when' (or 'remove: true')", False, None
        return f"{where} is not valid here", False, None
    return f"{where}: {e.message}", False, None
