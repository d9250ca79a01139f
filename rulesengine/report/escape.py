"""Text from policy and data files, made safe for the format it is written into.

Policies and data are untrusted input: a level label, a version, an organisation's name or a
decision's reason may hold a newline, a pipe, rich markup, a mathtext `$`, HTML, a control
character or a spreadsheet formula. Every writer passes such text through the function here
for its format, so the text shows as written and never changes the output's structure:

| format      | function          | what it guards against                                        |
|-------------|-------------------|---------------------------------------------------------------|
| terminal    | `terminal`        | control characters (ANSI escapes, carriage returns), bidi overrides |
| rich        | `rich_text`       | rich markup (`[/]`, `[bold]`), emoji codes, plus `terminal`    |
| Markdown    | `markdown`        | pipes, newlines, backslashes, emphasis, links, inline HTML      |
| matplotlib  | `mathtext`        | `$` (mathtext), a leading `_` (hidden legend entries)           |
| HTML        | `html`            | tags, attributes, entities                                     |
| xlsx        | `xlsx_cell`       | formulas (`=` typed as text), characters XML 1.0 cannot hold   |
| CSV         | `csv_cell`        | with `--excel-safe`, text a spreadsheet would run (`= + - @`)   |

CSV and JSON themselves need no escaping beyond their writers' own (the csv module quotes per
RFC 4180, json.dumps escapes strings); Parquet stores strings as strings.
"""

from __future__ import annotations

import html as _html
import re

# C0 and C1 controls and DEL; tab and newline are handled per format
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# bidirectional overrides and isolates: they reorder what a reader sees ("Trojan source")
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
_NEWLINES = re.compile(r"\r\n|[\r\n\u2028\u2029\x85]")


def _visible(m: re.Match) -> str:
    c = m.group(0)
    return f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}"


def terminal(text: object, *, newlines: bool = False) -> str:
    """Text safe to print on a terminal: control characters and bidi overrides shown as
    `\\xNN` / `\\uNNNN`; newlines become spaces unless `newlines`."""
    s = "" if text is None else str(text)
    if not newlines:
        s = _NEWLINES.sub(" ", s)
    s = s.replace("\t", " ")
    return _BIDI.sub(_visible, _CONTROL.sub(_visible, s))


def rich_text(text: object):
    """A rich Text object showing `text` literally (no markup, emoji or highlighting)."""
    from rich.text import Text

    return Text(terminal(text))


# `_` inside a word (rule_id) never makes emphasis, so it is left as written there
_MD_SPECIAL = re.compile(r"([\\`*{}$\[\]<>|~&#!]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")


def markdown(text: object) -> str:
    """Text for one Markdown line or table cell: shown literally, never a link, tag, emphasis
    or a new cell or row."""
    s = terminal(text)          # newlines (which would end a table row) become spaces
    return _MD_SPECIAL.sub(r"\\\1", s)


def mathtext(text: object) -> str:
    """Text for a matplotlib title, label, tick or legend: `$` never starts mathtext, and a
    leading `_` (which matplotlib reads as "leave out of the legend") is kept."""
    s = terminal(text).replace("$", r"\$")
    if s.startswith("_"):
        s = "\u200b" + s    # a zero-width space: the label shows as written
    return s


def html(text: object) -> str:
    """Text for HTML element content or a quoted attribute value."""
    s = "" if text is None else str(text)
    return _html.escape(_BIDI.sub(_visible, _CONTROL.sub(_visible, s)), quote=True)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

XLSX_MAX_CELL = 32767     # Excel's limit on the characters in one cell


def xlsx_cell(value: object) -> object:
    """A value openpyxl can store: numbers and booleans as themselves, text with characters
    XML 1.0 cannot hold shown as `\\xNN`, and cut to Excel's cell limit. (Text is typed as text
    by `xlsx.write_sheet`, so `=...` is never a formula.)"""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    s = _CONTROL.sub(_visible, str(value).replace("\r\n", "\n"))
    if len(s) > XLSX_MAX_CELL:
        s = s[:XLSX_MAX_CELL - 1] + "…"
    return s


def formula_like(text: str) -> bool:
    """Whether a spreadsheet would run `text` as a formula when it opens a CSV."""
    if not text or not text.startswith(FORMULA_START):
        return False
    try:
        float(text)         # -5 and +1.5 are numbers, not formulas
        return False
    except ValueError:
        return True


def csv_cell(text: str, *, excel_safe: bool = False) -> str:
    """A CSV cell's text; with `excel_safe`, formula-like text gets a leading `'` so Excel and
    LibreOffice show it instead of running it (OWASP's advice for CSV injection)."""
    if excel_safe and formula_like(text):
        return "'" + text
    return text
