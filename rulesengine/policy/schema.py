"""Validate a policy document against the shipped JSON Schema, with messages for authors.

jsonschema's own messages name schema keywords; these name the policy's keys and values,
point at the offending key or value, and suggest the closest valid word.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib.resources import files

import jsonschema
from jsonschema.exceptions import ValidationError

from .. import codes
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


# A long-running process (the language server) checks the same schema on every keystroke.
# fastjsonschema compiles it to Python once (about 0.2 s) and then tells a valid document
# ten times faster than jsonschema; a document it refuses is validated again by jsonschema,
# whose errors the messages below are made from. tests/policy/test_schema_fast.py keeps the
# two in agreement on every corpus file and on generated documents.
_compiled: list = []


def compile_fast_path() -> None:
    """Compile the schema for the fast validity check (idempotent; thread-safe enough: the
    worst case compiles twice)."""
    if not _compiled:
        import fastjsonschema       # only processes that ask for the fast path pay for it

        _compiled.append(fastjsonschema.compile(policy_schema()))


def is_valid_fast(data) -> bool | None:
    """Whether `data` is schema-valid by the compiled check, or None when it is not compiled."""
    if not _compiled:
        return None
    import fastjsonschema

    try:
        _compiled[0](data)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def validate(doc: Document) -> list[Diagnostic]:
    """Every schema violation in `doc`, one diagnostic each, in file order."""
    if is_valid_fast(doc.data):
        return []
    report = Reporter(doc.source)
    seen: set[tuple] = set()
    for error in _validator().iter_errors(doc.data):
        for leaf in _leaves(error):
            path = tuple(leaf.absolute_path)
            message, at_key, key, hint = _message(leaf)
            hint = hint or _dialect_hint(leaf)
            if "propertyNames" in leaf.schema_path and isinstance(leaf.instance, str):
                key = leaf.instance     # the offending name is itself a key: point at it
            if (path, message) in seen:
                continue
            seen.add((path, message))
            pos = doc.key(path + (key,)) if key is not None else (
                doc.key(path) if at_key else doc.pos(path))
            if leaf.validator == "type" and isinstance(leaf.instance, (dict, list)):
                key_pos = doc.key(path)
                if pos is not None and key_pos is not None and key_pos.line < pos.line:
                    pos = key_pos   # a block collection: its key names it better
            report.error(message, pos, code=codes.SCHEMA, hint=hint)
    return report.diagnostics


def _mismatch(e: ValidationError) -> bool:
    """Whether `e` only says the value is of another form than its branch (wrong type, or a
    string not matching the branch's pattern): the author did not mean that branch."""
    if e.relative_path:
        return False
    if e.validator in ("type", "pattern", "const"):
        return True
    if e.validator in ("oneOf", "anyOf"):
        return bool(e.context) and all(_mismatch(c) for c in e.context)
    return False


def _leaves(error: ValidationError) -> list[ValidationError]:
    """For oneOf/anyOf failures, the errors of the branch the author most likely meant."""
    if error.validator not in ("oneOf", "anyOf") or not error.context:
        return [error]
    branches: dict[int, list[ValidationError]] = {}
    for e in error.context:
        branches.setdefault(e.relative_schema_path[0], []).append(e)
    meant = {i: errs for i, errs in branches.items() if not any(_mismatch(e) for e in errs)}
    if not meant:
        # No branch fits. If exactly one has the value's type (a string not matching a date
        # pattern, say), its complaint is the one to show; else one message naming the forms.
        typed = [errs for errs in branches.values()
                 if not any(e.validator == "type" and not e.relative_path for e in errs)
                 and all(e.validator in ("pattern", "const") for e in errs)]
        return typed[0] if len(typed) == 1 else [error]

    def score(item):
        i, errs = item
        required = [k for e in errs if e.validator == "required"
                    for k in e.validator_value]
        instance = errs[0].instance if isinstance(errs[0].instance, dict) else {}
        present = sum(k in instance for k in required)
        depth = max(len(e.relative_path) for e in errs)
        return (depth, present, len(set(required)))

    _, errs = max(meant.items(), key=score)
    return [leaf for e in errs for leaf in _leaves(e)]


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


_EXPRESSION_PATHS = (("rules", int, "when"), ("define", str), ("applies_to",))


def _is_expression(path: tuple) -> bool:
    return any(len(path) == len(pattern) and all(
        (isinstance(part, want) if isinstance(want, type) else part == want)
        for part, want in zip(path, pattern)) for pattern in _EXPRESSION_PATHS)


def _message(e: ValidationError) -> tuple[str, bool, str | None, str | None]:
    """(message, point at the key rather than the value, key inside the object to point at,
    hint)."""
    path = tuple(e.absolute_path)
    where = _where(path)
    v = e.validator
    if v == "additionalProperties":
        allowed = list(e.schema.get("properties", {}))
        extra = [k for k in e.instance if k not in allowed]
        key = extra[0]
        hint = None
        if any(isinstance(e.instance.get(k), str) and _unbalanced(e.instance[k])
               for k in ("when", "applies_to")):
            # {id: r, when: f(a, b)}: the ',' inside the call ended the YAML entry
            hint = ("in a { } mapping a ',' ends the entry: put the expression in quotes")
        return (f"unknown key '{key}' in {where}{did_you_mean(key, allowed)}", False, key, hint)
    if v == "required":
        missing = e.message.split("'")[1]
        if path and path[0] == "params" and missing in ("value", "values"):
            return (f"{where} needs 'value' (or 'values' for values that change over time)",
                    True, None, None)
        return f"{where} is missing the required key '{missing}'", True, None, None
    if v == "type":
        expected = e.validator_value
        expected = [expected] if isinstance(expected, str) else expected
        names = " or ".join(_EXPECTED.get(t, t) for t in expected)
        if _is_expression(path):
            return (f"{where} must be an expression written as text, not "
                    f"{_type_name(e.instance)}", False, None,
                    f"YAML reads this value as {_type_name(e.instance)}; put the expression "
                    "in quotes")
        return f"{where} must be {names}, not {_type_name(e.instance)}", False, None, None
    if v == "enum":
        options = [str(o) for o in e.validator_value]
        return (f"{where}: '{e.instance}' is not one of {', '.join(options)}"
                f"{did_you_mean(str(e.instance), options)}", False, None, None)
    if v == "pattern":
        if e.schema.get("pattern", "").startswith("^[A-Za-z_]"):
            return (f"{where}: '{e.instance}' is not a valid name (use letters, digits and '_', "
                    "not starting with a digit)", False, None, None)
        if "0-9]{4}" in e.schema.get("pattern", ""):
            return (f"{where}: '{e.instance}' is not a date (write YYYY-MM-DD)", False, None,
                    None)
        return f"{where}: '{e.instance}' is not in the expected form", False, None, None
    if v == "minItems":
        if e.validator_value > 1:
            return (f"{where} must have at least {e.validator_value} items, not "
                    f"{len(e.instance)}", False, None, None)
        return f"{where} must not be empty", False, None, None
    if v == "minLength":
        return f"{where} must not be empty", False, None, None
    if v == "maxLength":
        if "propertyNames" in e.schema_path:
            return (f"{where}: the name '{e.instance[:24]}…' is too long (at most "
                    f"{e.validator_value} characters)", False, None, None)
        return f"{where} is too long (at most {e.validator_value} characters)", False, None, None
    if v == "minimum":
        return f"{where} must be at least {e.validator_value}", False, None, None
    if v == "const":
        return f"{where} must be {json.dumps(e.validator_value)}", False, None, None
    if v in ("oneOf", "anyOf"):
        if path and path[0] == "params":
            if isinstance(e.instance, dict) and "value" in e.instance and "values" in e.instance:
                return (f"{where} has both 'value' and 'values'; give one of them", False, None,
                        None)
            return (f"{where} must be a number, a percentage such as '25%', an amount such as "
                    "'£1.5m', or a mapping with 'value' (or 'values')", False, None, None)
        if path and path[0] == "rules":
            return f"{where} needs 'level' and 'when' (or 'remove: true')", False, None, None
        forms = _forms(e)
        if forms:
            return (f"{where} must be {forms}, not {_type_name(e.instance)}", False, None, None)
        return f"{where} is not valid here", False, None, None
    return f"{where}: {e.message}", False, None, None


# Forms YAML 1.1 read as numbers or booleans and the YAML 1.2 core schema of policy files reads
# as text (README, "YAML dialect"): said so where a number or true/false was expected.
_OTHER_NUMBER = re.compile(r"[-+]?(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|"
                           r"[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?|[0-9]+(_[0-9]+)+)")
_OTHER_BOOL = {"yes", "no", "on", "off", "y", "n"}


def _dialect_hint(e: ValidationError) -> str | None:
    value = e.instance
    if not isinstance(value, str) or e.validator not in ("type", "oneOf", "anyOf"):
        return None
    if _OTHER_NUMBER.fullmatch(value.strip()):
        return (f"'{value.strip()}' is text in a policy file (YAML 1.2): numbers are written "
                "in decimal, without ':' or '_'")
    if value.strip().lower() in _OTHER_BOOL:
        return f"'{value.strip()}' is text in a policy file (YAML 1.2): write true or false"
    return None


def _unbalanced(text: str) -> bool:
    return text.count("(") > text.count(")") or text.count("[") > text.count("]")


def _forms(e: ValidationError) -> str:
    """The value forms a oneOf/anyOf accepts, in words ('a string or a list'), from the
    branches' types."""
    names: list[str] = []
    for sub in e.validator_value:
        sub = _resolve(sub)
        types = sub.get("type")
        for t in [types] if isinstance(types, str) else (types or []):
            word = _EXPECTED.get(t, t)
            if t == "object" and sub.get("required"):
                word += " with " + " and ".join(f"'{k}'" for k in sub["required"])
            if word not in names:
                names.append(word)
    return " or ".join(names)


def _resolve(sub: dict) -> dict:
    ref = sub.get("$ref", "")
    if ref.startswith("#/$defs/"):
        return policy_schema()["$defs"].get(ref[len("#/$defs/"):], {})
    return sub
