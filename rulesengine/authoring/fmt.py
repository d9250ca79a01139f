"""`regime fmt`: one canonical layout for policy files, comments kept on their lines.

The file is composed by the policy loader's own safe YAML composer (so it refuses what the
loader refuses) and printed again by a small emitter of our own:

- keys of the records the README's tour describes (a rule, a level, a param, an input, a
  test case, ...) in the tour's order; maps of names (params, inputs, define, ...) keep the
  author's order;
- two-space indentation, list items indented under their key;
- a list or mapping in flow style (`{...}`, `[...]`) when it holds no comment and fits on its
  line, in block style otherwise; the top-level sections, rules and test cases always in block;
- strings plain where both YAML 1.1 (PyYAML) and the YAML 1.2 core schema read them back as
  the same string, quoted otherwise; prose too long for its line folded (`>-`);
- every embedded expression (`define:`, `when:`, `applies_to:`) printed by
  `rulesengine.lang.printer`: canonical spacing and brackets, long `and`/`or` chains broken
  one operand per line under each other. An expression that does not parse is left as text.

Comments are found by position (a `#` outside every scalar) and attached to the entry they
sit before or after, so they move with their key when keys are reordered. The result is
checked before it is returned: it must load to the same data, each expression to the same
tree (`same_meaning`); a formatter bug can never silently change a policy.
"""

from __future__ import annotations

import bisect
import difflib
import re
from dataclasses import dataclass, field
from typing import Any, Iterator

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .. import codes
from ..diagnostics import Diagnostic, PolicyError, line_starts, split_lines
from ..lang import parser
from ..check.checker import canonical
from ..lang.printer import layout_expr, print_expr
from ..policy import document
from .scalars import (double_quoted, fold, literal_ok, plain_ok, quoted, scalar_value_text,
                      string_inline)

WIDTH = 100                     # the line width aimed at (prose and expressions are wrapped)

# The README tour's order for each kind of record; keys not listed follow, in their order.
TOP_ORDER = ("tests_for", "policy", "title", "version", "effective", "description", "sources",
             "notes", "extends", "entity", "applies_to", "period", "peer_group", "levels",
             "default", "decide", "scales", "params", "inputs", "define", "rules", "timetable",
             "tests")
SECTIONS = ("levels", "scales", "params", "inputs", "define", "rules", "timetable", "tests")
_ORDERS: dict[str, tuple[str, ...]] = {
    "effective": ("from", "to"),
    "source": ("id", "title", "url", "confidence"),
    "level": ("id", "label", "meaning", "decided_by", "source"),
    "param": ("value", "values", "unit", "published", "note", "source"),
    "param_value": ("from", "value"),
    "input": ("type", "better", "scale", "unit", "aggregate", "label", "source", "note"),
    "rule": ("id", "level", "when", "reason", "source", "note", "remove"),
    "timetable": ("starts", "calendar", "stages"),
    "stage": ("id", "label", "working_days", "source", "note"),
    "test": ("name", "note", "periods", "entity", "inputs", "peers", "members", "params",
             "decisions", "expect", "tolerance"),
    "test_entity": ("id", "name", "kind", "type", "parent", "region", "inputs"),
    "decision": ("entity", "period", "level", "decided_by", "reason"),
    "expect": ("entity", "period", "level", "computed", "candidate", "fired", "fired_only", "not_fired",
               "unknown", "incomplete", "values"),
    "period_range": ("from", "to"),
}


def record_kind(path: tuple) -> str | None:
    """Which kind of record the mapping at `path` is (None: a map of names, order kept)."""
    n = len(path)
    if n == 0:
        return "top"
    head = path[0]
    if n == 1:
        return {"effective": "effective", "timetable": "timetable"}.get(head)
    if n == 2 and isinstance(path[1], int):
        return {"sources": "source", "levels": "level", "rules": "rule", "tests": "test"}.get(head)
    if head == "params":
        if n == 2:
            return "param"
        if n == 4 and path[2] == "values":
            return "param_value"
    if head == "inputs" and n == 2:
        return "input"
    if head == "timetable" and n == 3 and path[1] == "stages":
        return "stage"
    if head == "tests" and n >= 3 and isinstance(path[1], int):
        part = path[2]
        if n == 3 and part == "entity":
            return "test_entity"
        if n == 4 and part in ("peers", "members"):
            return "test_entity"
        if n == 4 and part == "decisions":
            return "decision"
        if part == "expect" and (n == 3 or (n == 4 and isinstance(path[3], int))):
            return "expect"
        if n == 3 and part == "periods":
            return "period_range"
    return None


def is_expression_path(path: tuple) -> bool:
    """Whether the string at `path` of a policy file is an embedded expression."""
    return (path == ("applies_to",) or (len(path) == 2 and path[0] == "define")
            or (len(path) == 3 and path[0] == "rules" and path[2] == "when"))


def _always_block(path: tuple, node: Node) -> bool:
    if len(path) <= 1 and (not path or path[0] in SECTIONS):
        return True
    if len(path) == 2 and path[0] in ("rules", "tests") and isinstance(path[1], int):
        return True
    return False


# --- comments ----------------------------------------------------------------------------------

@dataclass
class _Entry:
    """A mapping pair or a sequence item, with the comments and blank lines before it."""

    index: int                   # where it starts in the text
    line: int                    # 0-based
    depth: int
    end: int
    leading: list[str | None] = field(default_factory=list)   # comment text, None = blank line
    trailing: list[str] = field(default_factory=list)


class _Comments:
    """Comments and blank lines of a file, attached to entries by position."""

    def __init__(self, text: str, root: Node) -> None:
        self.entries: dict[tuple, _Entry] = {}
        self.text = text
        spans: list[tuple[int, int]] = []
        block_headers: list[tuple[int, int]] = []
        self._collect(root, 0, spans, block_headers, set())
        spans.sort()
        starts = line_starts(text)
        lines = split_lines(text)
        ordered = sorted(self.entries.values(), key=lambda e: (e.index, e.depth))
        self.footer: list[str | None] = []
        span_starts = [s for s, _ in spans]
        header_comment = {}
        for start, end in block_headers:     # `key: >-  # a comment` (inside the scalar's span)
            first = text[start:text.find("\n", start) if "\n" in text[start:] else len(text)]
            m = re.match(r"[|>][-+0-9]*([ \t]+)(#.*)$", first)
            if m:
                header_comment[start] = m.group(2).rstrip()
        index_of = [e.index for e in ordered]

        def inside_scalar(i: int) -> bool:
            k = bisect.bisect_right(span_starts, i) - 1
            return k >= 0 and spans[k][0] <= i < spans[k][1] and spans[k][0] != i

        for n, line in enumerate(lines):
            base = starts[n]
            stripped = line.strip()
            if not stripped:
                if not inside_scalar(base):
                    self._attach_full(ordered, index_of, base, None)
                continue
            for m in re.finditer("#", line):
                i = base + m.start()
                if m.start() > 0 and line[m.start() - 1] not in " \t":
                    continue
                if inside_scalar(i):
                    continue
                comment = line[m.start():].rstrip()
                if not line[:m.start()].strip():
                    self._attach_full(ordered, index_of, i, comment)
                else:
                    self._attach_trailing(ordered, index_of, n, i, comment)
                break
        for start, comment in header_comment.items():
            self._attach_trailing(ordered, index_of, None, start + 1, comment)

    def _collect(self, node: Node, depth: int, spans, headers, seen: set) -> None:
        stack = [(node, depth)]
        while stack:
            n, d = stack.pop()
            if isinstance(n, ScalarNode):
                start, end = n.start_mark.index, n.end_mark.index
                if n.style in ("|", ">"):
                    # a block scalar's span takes in the blank lines after it: leave them out
                    end = start + len(self.text[start:end].rstrip())
                    headers.append((start, end))
                spans.append((start, end))
                continue
            if id(n) in seen:
                continue
            seen.add(id(n))
            if isinstance(n, MappingNode):
                for k, (key, value) in enumerate(n.value):
                    self.entries[(id(n), k)] = _Entry(key.start_mark.index, key.start_mark.line,
                                                      d, value.end_mark.index)
                    stack.append((key, d + 1))
                    stack.append((value, d + 1))
            elif isinstance(n, SequenceNode):
                for k, item in enumerate(n.value):
                    self.entries[(id(n), k)] = _Entry(item.start_mark.index, item.start_mark.line,
                                                      d, item.end_mark.index)
                    stack.append((item, d + 1))

    def _attach_full(self, ordered, index_of, i: int, comment: str | None) -> None:
        k = bisect.bisect_right(index_of, i)
        target = ordered[k].leading if k < len(ordered) else self.footer
        if comment is None and target and target[-1] is None:
            return              # blank lines collapse to one
        target.append(comment)

    def _attach_trailing(self, ordered, index_of, line: int | None, i: int, comment: str) -> None:
        k = bisect.bisect_left(index_of, i)
        candidates = ordered[:k]
        if line is not None:
            on_line = [e for e in candidates if e.line == line]
            if on_line:
                min(on_line, key=lambda e: (e.depth, e.index)).trailing.append(comment)
                return
        if candidates:
            # The innermost entry started before the comment (the last one in the text).
            last = max(e.index for e in candidates)
            max((e for e in candidates if e.index == last), key=lambda e: e.depth) \
                .trailing.append(comment)
        elif ordered:
            ordered[0].leading.append(comment)
        else:
            self.footer.append(comment)

    def of(self, parent: Node, k: int) -> _Entry:
        # an entry not in the text itself (merged in by `<<: *anchor`) has no comments
        return self.entries.get((id(parent), k)) or _Entry(-1, -1, 0, -1)

    def any_inside(self, node: Node) -> bool:
        """Whether any entry within `node` has a comment (then it cannot be in flow style)."""
        stack = [node]
        while stack:
            n = stack.pop()
            if isinstance(n, (MappingNode, SequenceNode)):
                for k, child in enumerate(n.value):
                    e = self.entries.get((id(n), k))
                    if e is not None and (e.trailing or any(c is not None for c in e.leading)):
                        return True
                    if isinstance(n, MappingNode):
                        stack.append(child[1])
                    else:
                        stack.append(child)
        return False


# --- the emitter ---------------------------------------------------------------------------------

class _Emitter:
    def __init__(self, text: str, root: Node, loader: document._Loader, expressions: bool):
        self.text = text
        self.loader = loader
        self.comments = _Comments(text, root)
        self.expressions = expressions
        self.lines: list[str] = []
        self.pending: list[str] = []

    # output
    def put(self, line: str) -> None:
        if self.pending:
            line = f"{line}  {' '.join(self.pending)}"
            self.pending = []
        self.lines.append(line.rstrip())

    def put_leading(self, leading: list[str | None], indent: int, first: bool) -> None:
        items = list(leading)
        while first and items and items[0] is None:
            items.pop(0)
        for item in items:
            if item is None:
                if self.lines and self.lines[-1] != "":
                    self.lines.append("")
            else:
                self.lines.append(" " * indent + item)

    # values
    def value(self, node: Node) -> Any:
        return self.loader.construct_object(node, deep=True)

    def ordered_pairs(self, node: MappingNode, path: tuple) -> list[tuple[int, Node, Node]]:
        pairs = [(k, key, value) for k, (key, value) in enumerate(node.value)]
        kind = record_kind(path)
        if kind is None:
            return pairs
        order = TOP_ORDER if kind == "top" else _ORDERS[kind]
        rank = {name: i for i, name in enumerate(order)}
        return sorted(pairs, key=lambda p: (rank.get(self.key_name(p[1]), len(order)), p[0]))

    def key_name(self, key: Node) -> str:
        return str(key.value) if isinstance(key, ScalarNode) else ""

    def key_text(self, key: Node) -> str:
        text = str(key.value)
        if key.style is None and key.tag == "tag:yaml.org,2002:str":
            return text if plain_ok(text) else quoted(text)
        if key.style is None:
            return text                    # a plain non-string key (`1:`) read as its text
        return string_inline(text)

    # flow style
    def flow(self, node: Node, path: tuple) -> str | None:
        """The node on one line in flow style, or None if it must be in block style."""
        if isinstance(node, ScalarNode):
            return self.scalar_inline(node, path, flow=True)
        if _always_block(path, node) or self.comments.any_inside(node):
            return None
        parts = []
        if isinstance(node, MappingNode):
            if "when" in {self.key_name(k) for k, _ in node.value}:
                return None
            for _, key, value in self.ordered_pairs(node, path):
                v = self.flow(value, path + (self.key_name(key),))
                if v is None:
                    return None
                k = self.key_text(key)
                if not plain_ok(str(key.value), flow=True) and not k.startswith(("'", '"')):
                    return None
                parts.append(f"{k}: {v}")
            return "{" + ", ".join(parts) + "}"
        for k, item in enumerate(node.value):
            v = self.flow(item, path + (k,))
            if v is None:
                return None
            parts.append(v)
        return "[" + ", ".join(parts) + "]"

    def scalar_inline(self, node: ScalarNode, path: tuple, flow: bool = False) -> str | None:
        value = self.value(node)
        if isinstance(value, str):
            if self.expressions and is_expression_path(path):
                expr = self.expression(value)
                if expr is not None:
                    if flow:
                        return None
                    value = expr
            if flow and "\n" in value:
                return None
            return string_inline(value, flow)
        text = scalar_value_text(value)
        if text is None:       # a value of another YAML type: kept as written
            raw = self.text[node.start_mark.index:node.end_mark.index]
            return raw if "\n" not in raw else None
        return text

    def expression(self, text: str) -> str | None:
        try:
            tree = parser.parse(text, lambda offset: (1, offset + 1), parser.NodeIds())
        except parser.SyntaxProblem:
            return None
        return print_expr(tree)

    # block style
    def scalar(self, node: ScalarNode, path: tuple, col: int, indent: int) -> tuple[str, list[str]]:
        """(text after 'key: ' or '- ', continuation lines) for a scalar in block context."""
        value = self.value(node)
        if not isinstance(value, str):
            inline = self.scalar_inline(node, path)
            if inline is None:       # a multi-line value of another YAML type, as written
                raw = self.text[node.start_mark.index:node.end_mark.index]
                return raw, []
            return inline, []
        if self.expressions and is_expression_path(path):
            try:
                tree = parser.parse(value, lambda offset: (1, offset + 1), parser.NodeIds())
            except parser.SyntaxProblem:
                tree = None
            if tree is not None:
                flat = print_expr(tree)
                if col + len(string_inline(flat)) <= WIDTH:
                    return string_inline(flat), []
                lines = layout_expr(tree, max(40, WIDTH - indent))
                return ">-", [" " * indent + line for line in lines]
        if "\n" in value:
            if literal_ok(value):
                body = value.rstrip("\n")
                trailing = len(value) - len(body)
                header = "|-" if trailing == 0 else "|" if trailing == 1 else "|+"
                lines = [(" " * indent + line) if line else "" for line in body.split("\n")]
                return header, lines + [""] * (trailing - 1 if trailing > 1 else 0)
            return double_quoted(value), []
        inline = string_inline(value)
        if col + len(inline) <= WIDTH:
            return inline, []
        lines = fold(value, max(40, WIDTH - indent))
        if lines is None or len(lines) < 2:
            return inline, []
        return ">-", [" " * indent + line for line in lines]

    def node(self, node: Node, path: tuple, indent: int, head: str) -> None:
        """Emit `node` whose first line starts with `head` (e.g. 'key:' or '- ')."""
        sep = "" if head.endswith(" ") else " "
        if isinstance(node, ScalarNode):
            text, more = self.scalar(node, path, len(head) + len(sep), indent + 2)
            self.put(head + sep + text)
            self.lines.extend(more)
            return
        if not node.value:
            self.put(head + sep + ("{}" if isinstance(node, MappingNode) else "[]"))
            return
        flow = self.flow(node, path)
        if flow is not None and len(head) + len(sep) + len(flow) <= WIDTH:
            self.put(head + sep + flow)
            return
        if head.endswith("- "):        # a block collection as a list item starts on its line
            if isinstance(node, MappingNode):
                self.mapping(node, path, len(head), first_head=head)
            else:
                self.sequence(node, path, len(head), first_head=head)
            return
        self.put(head)
        if isinstance(node, MappingNode):
            self.mapping(node, path, indent + 2)
        else:
            self.sequence(node, path, indent + 2)

    def mapping(self, node: MappingNode, path: tuple, indent: int,
                first_head: str | None = None) -> None:
        self.loader.flatten_mapping(node)
        pairs = self.ordered_pairs(node, path)
        for n, (k, key, value) in enumerate(pairs):
            entry = self.comments.of(node, k)
            leading = entry.leading
            if not path:
                # At the top, blank lines are the layout's: one before each section.
                leading = [c for c in leading if c is not None]
                if n > 0 and self.key_name(key) in ("entity",) + SECTIONS:
                    leading = [None] + leading
            first = n == 0
            lead_indent = indent if not (first and first_head) else len(first_head) - 2
            self.put_leading(leading, lead_indent, first)
            self.pending += entry.trailing
            head = (first_head if first and first_head else " " * indent) + self.key_text(key) + ":"
            self.node(value, path + (self.key_name(key),), indent, head)

    def sequence(self, node: SequenceNode, path: tuple, indent: int,
                 first_head: str | None = None) -> None:
        for k, item in enumerate(node.value):
            entry = self.comments.of(node, k)
            first = k == 0
            lead_indent = indent if not (first and first_head) else len(first_head) - 2
            self.put_leading(entry.leading, lead_indent, first)
            self.pending += entry.trailing
            head = (first_head if first and first_head else " " * indent) + "- "
            self.node(item, path + (k,), indent, head)

    def document(self, root: Node) -> str:
        if isinstance(root, (MappingNode, SequenceNode)) and root.value:
            # The comments above the first entry, up to the last blank line, head the file
            # whatever key comes first once the keys are in order.
            first = self.comments.of(root, 0)
            if None in first.leading:
                cut = len(first.leading) - first.leading[::-1].index(None)
                self.put_leading(first.leading[:cut], 0, True)
                first.leading = first.leading[cut:]
        if isinstance(root, MappingNode):
            self.mapping(root, (), 0)
        elif isinstance(root, SequenceNode):
            self.sequence(root, (), 0)
        else:
            text, more = self.scalar(root, (), 0, 2)
            self.put(text)
            self.lines.extend(more)
        footer = list(self.comments.footer)
        while footer and footer[-1] is None:
            footer.pop()
        self.put_leading(footer, 0, False)
        if self.pending:
            self.lines.append("  ".join(self.pending))
            self.pending = []
        while self.lines and self.lines[-1] == "":
            self.lines.pop()
        return "\n".join(self.lines) + "\n"


def _flatten(root: Node, loader) -> None:
    """Resolve merge keys (`<<: *anchor`) everywhere first, as the loader does, so that entries
    are numbered once and for all."""
    stack, seen = [root], set()
    while stack:
        n = stack.pop()
        if id(n) in seen or isinstance(n, ScalarNode):
            continue
        seen.add(id(n))
        if isinstance(n, MappingNode):
            loader.flatten_mapping(n)
            stack += [v for pair in n.value for v in pair]
        else:
            stack += list(n.value)


# --- the public surface ------------------------------------------------------------------------

class FormatError(PolicyError):
    """The formatter could not keep the file's meaning (a bug in the formatter)."""


def format_text(text: str, file: str = "<policy>") -> str:
    """The canonical layout of a policy (or policy test) file. Raises PolicyError for a file
    the loader refuses, FormatError if the result would not mean the same."""
    doc = document.load_document(text, file)      # the loader's limits and error messages
    loader = document._Loader(text)
    try:
        root = loader.get_single_node()
        _flatten(root, loader)
        expressions = isinstance(doc.data, dict) and "tests_for" not in doc.data
        out = _Emitter(text, root, loader, expressions).document(root)
    finally:
        loader.dispose()
    problem = meaning_difference(doc.data, out, file)
    if problem is not None:
        raise FormatError(Diagnostic(f"regime fmt would change the meaning of this file "
                                     f"({problem}); it was left as it is", file=file,
                                     code=codes.FMT))
    return out


def meaning_difference(before: str | Any, after: str, file: str = "<policy>") -> str | None:
    """None if the two texts load to the same data, expressions compared as trees; else
    the first difference, as a path and both values. `before` may be the data already
    loaded from the first text."""
    a = document.load_document(before, file).data if isinstance(before, str) else before
    try:
        b = document.load_document(after, file).data
    except PolicyError as e:
        return f"the result does not load: {e.diagnostics[0].message}"
    expressions = isinstance(a, dict) and "tests_for" not in a
    for path, x, y in _pairs(a, b, ()):
        if expressions and is_expression_path(path) and isinstance(x, str) and isinstance(y, str):
            if _expression_key(x) == _expression_key(y):
                continue
        if type(x) is not type(y) or x != y:
            if not (x != x and y != y):                 # NaN equals NaN here
                return f"at {'/'.join(map(str, path)) or 'the top'}: {x!r} became {y!r}"
    return None


def _expression_key(text: str) -> str:
    try:
        return canonical(parser.parse(text, lambda o: (1, o + 1), parser.NodeIds()))
    except parser.SyntaxProblem:
        return "\0" + text


def _pairs(a: Any, b: Any, path: tuple) -> Iterator[tuple[tuple, Any, Any]]:
    """Leaves of two trees side by side (a mismatch of shape is yielded as a pair)."""
    stack = [(a, b, path)]
    while stack:
        x, y, p = stack.pop()
        if isinstance(x, dict) and isinstance(y, dict):
            if list(x) != list(y) and set(x) != set(y):
                yield p, sorted(x), sorted(y)
                continue
            stack.extend((x[k], y[k], p + (k,)) for k in reversed(list(x)))
        elif isinstance(x, list) and isinstance(y, list):
            if len(x) != len(y):
                yield p, x, y
                continue
            stack.extend((x[k], y[k], p + (k,)) for k in reversed(range(len(x))))
        else:
            yield p, x, y


def unified_diff(before: str, after: str, name: str) -> str:
    """The change fmt makes, as a unified diff."""
    return "".join(difflib.unified_diff(before.splitlines(keepends=True),
                                        after.splitlines(keepends=True),
                                        fromfile=name, tofile=f"{name} (formatted)"))


# --- files --------------------------------------------------------------------------------------

def policy_files(paths) -> list:
    """The YAML files named: files as given, folders searched (hidden entries skipped)."""
    from pathlib import Path

    out = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.suffix in (".yaml", ".yml")
                          and f.is_file() and not any(part.startswith(".")
                                                      for part in f.relative_to(p).parts))
        elif p.exists():
            out.append(p)
        else:
            raise PolicyError(f"fmt: no file or folder '{p}'")
    return out
