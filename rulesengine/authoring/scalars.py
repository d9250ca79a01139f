"""How `regime fmt` writes a scalar: plain where YAML 1.1 and 1.2 both read it back as the
same string, else quoted; long prose folded to the line width."""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.nodes import ScalarNode


# --- scalars ------------------------------------------------------------------------------------

# YAML 1.2 core schema (the spec's 10.3.2): what a plain scalar resolves to besides a string.
_CORE_12 = re.compile(
    r"(null|Null|NULL|~|true|True|TRUE|false|False|FALSE"
    r"|[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+"
    r"|[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?"
    r"|[-+]?(\.inf|\.Inf|\.INF)|\.nan|\.NaN|\.NAN)?\Z")
_PRINTABLE = re.compile("[\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*\\Z")
_PLAIN_CHARS = re.compile("[\x20-\x7e\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd"
                          "\U00010000-\U0010ffff]*\\Z")
_INDICATORS = set("-?:,[]{}#&*!|>'\"%@`")


class _Resolver11(yaml.SafeLoader):
    """YAML 1.1's resolver (dates aside); policy files are read as YAML 1.2 (document.py)."""


_Resolver11.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_RESOLVER = _Resolver11("")


def _resolves_to_str_11(text: str) -> bool:
    return _RESOLVER.resolve(ScalarNode, text, (True, False)) == "tag:yaml.org,2002:str"


def plain_ok(text: str, flow: bool = False) -> bool:
    """Whether `text` may be written unquoted and read back, by YAML 1.1 and 1.2 alike, as
    this same string."""
    if not text or text != text.strip() or not _PLAIN_CHARS.match(text):
        return False
    first = text[0]
    if first in _INDICATORS and not (first in "-?:" and len(text) > 1
                                     and (text[1].isalnum() or text[1] in "£.")):
        return False
    if ": " in text or " #" in text or text.endswith(":") or text.startswith(("---", "...")):
        return False
    if flow and any(c in text for c in ",[]{}:#"):
        return False
    return _resolves_to_str_11(text) and not _CORE_12.match(text)


def double_quoted(text: str) -> str:
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif not _PLAIN_CHARS.match(ch) or ch in "\x85\u2028\u2029":
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else
                       f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def quoted(text: str) -> str:
    """A quoted scalar: single quotes when the text has a double quote or a backslash (no
    escapes needed), double quotes otherwise or when it needs escapes."""
    if ('"' in text or "\\" in text) and "\n" not in text and _PLAIN_CHARS.match(text):
        return "'" + text.replace("'", "''") + "'"
    return double_quoted(text)


def string_inline(text: str, flow: bool = False) -> str:
    return text if plain_ok(text, flow) else quoted(text)


def _foldable(text: str) -> bool:
    return (bool(text) and text == text.strip() and "\n" not in text and "\r" not in text
            and "\t" not in text and bool(_PLAIN_CHARS.match(text)) and "  " not in text)


def fold(text: str, width: int) -> list[str] | None:
    """`text` wrapped at single spaces into lines of at most `width` (longer words stay
    whole), for a `>-` scalar that folds back to exactly `text`; None if it cannot."""
    if not _foldable(text):
        return None
    words = text.split(" ")
    lines: list[str] = []
    line = ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}" if line else w
    lines.append(line)
    return lines


def literal_ok(text: str) -> bool:
    return ("\r" not in text and bool(_PLAIN_CHARS.match(text.replace("\n", "")))
            and not text.startswith((" ", "\n")) and "\t" not in text.split("\n", 1)[0])


def scalar_value_text(value: Any) -> str | None:
    """A non-string scalar as YAML text both dialects read back as the same value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return ".nan"
        if value in (float("inf"), float("-inf")):
            return ".inf" if value > 0 else "-.inf"
        text = repr(value)
        if "e" in text and "." not in text.split("e")[0]:
            mantissa, exp = text.split("e")
            text = f"{mantissa}.0e{exp}"    # PyYAML's YAML 1.1 floats need the dot
        return text
    return None
