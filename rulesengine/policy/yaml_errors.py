"""YAML errors as regime's diagnostics: the line and column of the problem, the source
line and a caret, and wording for a policy author (what PyYAML calls a 'mapping value' is
explained as a colon where it is not allowed, an unclosed quote is found where it opened)."""

from __future__ import annotations

import bisect
import re

import yaml

from .. import codes
from ..diagnostics import Diagnostic, Pos, Source, line_starts


def located(message: str, mark, source: Source, code: str = codes.YAML,
             hint: str | None = None) -> Diagnostic:
    pos = Pos(mark.line + 1, mark.column + 1) if mark is not None else None
    return Diagnostic(message, file=source.file, pos=pos, code=code, hint=hint,
                      source_line=source.line(pos.line) if pos else None)


_QUOTE_HINT = "put the whole value in quotes"

# PyYAML's token names, as an author would say them.
_TOKENS = {
    "'<scalar>'": "a value", "'<block mapping start>'": "a new key",
    "'<block sequence start>'": "a list item", "'<block entry>'": "a '-' list item",
    "'<block end>'": "the end of the block", "'<stream end>'": "the end of the file",
    "'<document start>'": "'---'", "'<document end>'": "'...'", "'<alias>'": "an alias '*'",
    "'<anchor>'": "an anchor '&'", "'<tag>'": "a tag '!'", "'?'": "a key", "':'": "':'",
    "','": "','", "'['": "'['", "']'": "']'", "'{'": "'{'", "'}'": "'}'",
}


def _token(found: str) -> str:
    return _TOKENS.get(found.strip(), found.strip())


def yaml_diagnostic(e: yaml.MarkedYAMLError, source: Source) -> Diagnostic:
    """PyYAML's error, reworded for a policy author and placed where the author must look."""
    problem = e.problem or ""
    context = e.context or ""
    at = e.problem_mark or e.context_mark
    start = e.context_mark or e.problem_mark

    def where(mark) -> str:
        return f"line {mark.line + 1}, column {mark.column + 1}"

    if "quoted scalar" in context and ("end of stream" in problem
                                       or "document separator" in problem):
        return located("invalid YAML: this quoted string is never closed", start, source,
                        hint="end it with the same quote mark it starts with")
    if problem == "mapping values are not allowed here":
        missing = _line_missing_colon(source, at)
        if missing is not None:
            return located("invalid YAML: expected ':' after this key", missing, source,
                            hint="write 'key: value'; a value that spans lines must be "
                                 "indented under its key")
        return located("invalid YAML: ': ' (a colon and a space) cannot appear in an unquoted "
                        "value", at, source, hint=_QUOTE_HINT)
    if problem == "could not find expected ':'":
        return located("invalid YAML: expected ':' after this key", start, source,
                        hint="write 'key: value'; a value that spans lines must be indented "
                             "under its key")
    if problem.startswith("found character '\\t'"):
        return located("invalid YAML: a tab character here; YAML is indented with spaces only",
                        at, source)
    if problem.startswith("found character") and "cannot start any token" in problem:
        ch = problem.split("'")[1] if "'" in problem else "?"
        return located(f"invalid YAML: a value cannot start with '{ch}'", at, source,
                        hint=_QUOTE_HINT)
    if context.startswith("while scanning an alias") or context.startswith(
            "while scanning an anchor"):
        mark = "*" if "alias" in context else "&"
        what = "an alias" if mark == "*" else "an anchor"
        return located(f"invalid YAML: '{mark}' at the start of a value begins {what}", start,
                        source, hint=_QUOTE_HINT)
    if problem.startswith("found undefined alias"):
        name = problem.split("'")[1] if "'" in problem else ""
        return located(f"invalid YAML: '*{name}' refers to no anchor '&{name}'", at, source,
                        hint="if '*' is not meant as an alias, " + _QUOTE_HINT)
    if problem.startswith("found unknown escape character"):
        ch = problem.split("'")[1] if "'" in problem else "?"
        backslash = yaml.Mark(source.file, at.index - 1, at.line, max(0, at.column - 1), None,
                              None)
        return located(f"invalid YAML: unknown escape '\\{ch}' in a double-quoted string",
                        backslash, source,
                        hint="write '\\\\' for a backslash, or use single quotes")
    if problem in ("sequence entries are not allowed here",
                   "block sequence entries are not allowed here"):
        return located("invalid YAML: '- ' starts a list item and is not allowed here", at,
                        source, hint="if this is an expression, " + _QUOTE_HINT)
    if context == "expected a single document in the stream":
        return located("invalid YAML: a policy file holds one YAML document, but '---' starts "
                        "another", at, source)
    if problem.startswith("expected <block end>, but found"):
        found = _token(problem.split("found", 1)[1])
        hint = "check the indentation"
        before = _text_before(source.text, at)
        if before in "]}" and before:
            hint = ("a value that starts with '[' or '{' is read as a YAML list or mapping; "
                    "if it is an expression, " + _QUOTE_HINT)
        elif before in "'\"" and before:
            hint = ("a value that starts with a quote ends at its closing quote; if it is an "
                    "expression, put the whole of it in quotes of the other kind")
        elif e.context_mark is not None:
            hint = (f"check the indentation: this block starts at {where(e.context_mark)}")
        return located(f"invalid YAML: {found} is not expected here", at, source, hint=hint)
    if problem.startswith("expected ',' or ']'") or problem.startswith("expected ',' or '}'"):
        close = "]" if "]" in problem.split(",", 2)[1] else "}"
        kind = "list" if close == "]" else "mapping"
        found = _token(problem.split("got", 1)[1]) if "got" in problem else "something else"
        opened = f" (the {kind} opened at {where(e.context_mark)})" if e.context_mark else ""
        return located(f"invalid YAML: expected ',' or '{close}'{opened}, found {found}", at,
                        source)
    if problem.startswith("expected the node content, but found"):
        return located(f"invalid YAML: expected a value, found "
                        f"{_token(problem.split('found', 1)[1])}", at, source)
    if context.startswith("found duplicate anchor") and e.context_mark is not None:
        name = context.split("'")[1] if "'" in context else ""
        return located(f"invalid YAML: the anchor '&{name}' is defined twice (first at line "
                        f"{e.context_mark.line + 1})", at, source)
    message = problem or "invalid YAML"
    if context and problem and "while" not in context:
        message = f"{context}; {problem}"
    message = re.sub(r"'<[a-z ]+>'", lambda m: _token(m.group(0)), message)
    return located(f"invalid YAML: {message}", at, source)


def _line_missing_colon(source: Source, mark):
    """For `entity trust` followed by `period: year`: YAML reads the first line as the start
    of a plain value that runs on into the second, and complains at the second line's ':'.
    The mistake is the earlier line's missing ':'; return a mark at its start, or None."""
    line = source.line(mark.line + 1) or ""
    if not re.fullmatch(r"\s*[A-Za-z_][\w-]*\s*", line[:mark.column]):
        return None
    for n in range(mark.line, 0, -1):
        earlier = source.line(n) or ""
        if earlier.strip() and not earlier.lstrip().startswith("#"):
            if ":" in earlier or earlier.lstrip().startswith("-"):
                return None
            indent = len(earlier) - len(earlier.lstrip())
            return yaml.Mark(source.file, 0, n - 1, indent, None, None)
    return None


def _text_before(text: str, mark) -> str:
    """The last non-blank character before a mark, or ""."""
    i = min(mark.index, len(text)) - 1
    while i >= 0 and text[i] in " \t":
        i -= 1
    return text[i] if i >= 0 else ""


def reader_diagnostic(e: yaml.reader.ReaderError, source: Source) -> Diagnostic:
    """A character YAML does not allow (a control character, say), located in the file."""
    text = source.text
    index = max(0, min(e.position, len(text)))
    starts = line_starts(text)
    line = bisect.bisect_right(starts, index) - 1
    pos = Pos(line + 1, index - starts[line] + 1)
    ch = e.character
    name = f"U+{ch:04X}" if isinstance(ch, int) else repr(ch)
    return Diagnostic(f"invalid YAML: the character {name} is not allowed in a policy file",
                      file=source.file, pos=pos, code=codes.YAML,
                      source_line=source.line(pos.line))
