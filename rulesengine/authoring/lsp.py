"""`regime lsp`: a language server for policy files, over stdio (pygls).

Diagnostics come from the same pipeline as `regime check` (YAML, schema, parser, checker), at
the file's own line and column, recomputed in a worker thread a short pause after the last
keystroke. Hover, go to definition, completion and document symbols read an index of the
policy's names (`PolicyIndex`) built from the document's recorded positions, so they keep
working while the policy has errors; formatting is `regime fmt`. The JSON Schema of policy
files is served on request (`regime/schema`), so editors need no path comment.

Positions: the project counts 1-based lines and columns in characters; LSP counts 0-based
lines and, by default, UTF-16 code units. Policy names are ASCII, and columns are converted
through the line's text where it matters (`_utf16`).
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from ..check.checker import check
from ..diagnostics import Diagnostic, PolicyError, Pos, RegimeError
from ..files import POLICY, read_input
from ..lang.builtins import BUILTINS, Builtin
from ..lang.types import describe
from ..policy.load import find_policy, load_policy_text, read_policy_file, search_path
from ..policy import schema as policy_schema
from ..policy.document import load_document
from ..policy.model import ENTITY_ATTRIBUTES
from ..version import __version__

DEBOUNCE_SECONDS = 0.1
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


# --- what a policy's names mean -----------------------------------------------------------------

@dataclass(frozen=True)
class Symbol:
    """A name declared in a policy: what it is, where, and what to say about it."""

    name: str
    kind: str                   # level param input define scale label rule
    file: str                   # absolute path of the file that declares it
    pos: Pos
    detail: str                 # one line: its type, value, ...
    doc: str                    # markdown for hover


def signature(b: Builtin) -> str:
    """A built-in's call as documented by its registry entry."""
    return b.signature()


def _md(text: Any) -> str:
    """Policy text for a markdown hover: markdown's special characters escaped."""
    return re.sub(r"([\\`*_\[\]<>|])", r"\\\1", str(text))


@dataclass
class PolicyIndex:
    """The names of one policy file (and of the policy it extends) with their positions."""

    file: str
    symbols: dict[str, list[Symbol]] = field(default_factory=dict)
    scales: dict[str, tuple[str, ...]] = field(default_factory=dict)
    input_scales: dict[str, str] = field(default_factory=dict)
    extends: tuple[str, str] | None = None      # (the name written, the parent's file)

    def add(self, s: Symbol) -> None:
        self.symbols.setdefault(s.name, []).append(s)

    def lookup(self, name: str) -> list[Symbol]:
        return self.symbols.get(name, [])


def build_index(text: str, file: str, types: dict[str, str] | None = None) -> PolicyIndex | None:
    """The index of a policy's text, or None when its YAML cannot be read."""
    try:
        doc = load_document(text, file)
    except PolicyError:
        return None
    index = PolicyIndex(file)
    data = doc.data if isinstance(doc.data, dict) else {}
    extends = data.get("extends")
    if isinstance(extends, str):
        parent = _parent_file(extends, Path(file))
        if parent is not None:
            index.extends = (extends, str(parent))
            _index_parent(index, parent)
    _index_data(index, data, file, doc.key, doc.pos, types or {})
    return index


def _parent_file(ref: str, path: Path) -> Path | None:
    try:
        return find_policy(ref, [path.parent] + search_path(), relative_to=path.parent).resolve()
    except (RegimeError, OSError, ValueError):
        return None


def _index_parent(index: PolicyIndex, parent: Path) -> None:
    try:
        doc = load_document(read_policy_file(parent), str(parent))
    except PolicyError:
        return
    if isinstance(doc.data, dict):
        _index_data(index, doc.data, str(parent), doc.key, doc.pos, {})


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _index_data(index: PolicyIndex, data: dict, file: str, key, pos, types) -> None:
    """Add the names declared in one file's data; later files override earlier ones."""
    def add(name, kind, p, detail, doc):
        if isinstance(name, str) and p is not None:
            # a name redeclared by the extending file replaces the parent's for hover
            index.symbols[name] = [s for s in index.lookup(name) if s.kind != kind]
            index.add(Symbol(name, kind, file, p, detail, doc))

    levels = data.get("levels") if isinstance(data.get("levels"), list) else []
    for i, lv in enumerate(levels):
        lv = _dict(lv)
        meaning = lv.get("meaning", "")
        judged = f"\n\nA judgement level, decided by {_md(lv['decided_by'])}." \
            if lv.get("decided_by") else ""
        add(lv.get("id"), "level", pos(("levels", i, "id")),
            f"level {i + 1} of {len(levels)} (1 = best)",
            f"**level** `{lv.get('id')}` — {_md(lv.get('label', lv.get('id')))}, "
            f"{i + 1} of {len(levels)} (best first)\n\n{_md(meaning)}{judged}")
    for name, labels in _dict(data.get("scales")).items():
        if not isinstance(labels, list):
            continue
        index.scales[name] = tuple(str(x) for x in labels)
        add(name, "scale", key(("scales", name)), f"scale: {', '.join(map(str, labels))}",
            f"**scale** `{name}` (best first): {', '.join(f'`{x}`' for x in labels)}")
        for i, label in enumerate(labels):
            add(label, "label", pos(("scales", name, i)), f"label {i + 1} of scale {name}",
                f"**label** `{label}` of the scale `{name}`: position {i + 1} of "
                f"{len(labels)} (best first)")
    for name, spec in _dict(data.get("params")).items():
        spec = spec if isinstance(spec, dict) else {"value": spec}
        if "values" in spec and isinstance(spec["values"], list):
            value = "; ".join(f"{_dict(v).get('value')} from {_dict(v).get('from')}"
                              for v in spec["values"])
        else:
            value = str(spec.get("value"))
        lines = [f"**param** `{name}` = {_md(value)}"
                 + (f" ({_md(spec['unit'])})" if spec.get("unit") else "")]
        if spec.get("note"):
            lines.append(f"Note: {_md(spec['note'])}")
        if spec.get("source"):
            lines.append(f"Source: {_md(spec['source'])}")
        if spec.get("published") is not None:
            lines.append("Published by the regime." if spec["published"] else
                         "**Not published**: a modelling choice.")
        add(name, "param", key(("params", name)), f"param = {value}", "\n\n".join(lines))
    for name, spec in _dict(data.get("inputs")).items():
        spec = _dict(spec)
        t = spec.get("type", "?")
        if t == "rating" and spec.get("scale"):
            index.input_scales[name] = spec["scale"]
            t = f"rating on the scale {spec['scale']}"
        parts = [f"**input** `{name}`: {_md(spec.get('label', name))}", f"Type: {_md(t)}"]
        if spec.get("unit"):
            parts.append(f"Unit: {_md(spec['unit'])}")
        if spec.get("better"):
            parts.append(f"Better: {_md(spec['better'])}")
        if spec.get("aggregate"):
            parts.append(f"Aggregated by: {_md(spec['aggregate'])}")
        add(name, "input", key(("inputs", name)), f"input: {t}", "\n\n".join(parts))
    for name, text in _dict(data.get("define")).items():
        t = types.get(name)
        add(name, "define", key(("define", name)), f"define{': ' + t if t else ''}",
            f"**define** `{name}`{' — ' + _md(t) if t else ''}\n\n{_code(text)}")
    rules = data.get("rules") if isinstance(data.get("rules"), list) else []
    for i, rule in enumerate(rules):
        rule = _dict(rule)
        add(rule.get("id"), "rule", pos(("rules", i, "id")), f"rule -> {rule.get('level')}",
            f"**rule** `{rule.get('id')}` → `{rule.get('level')}`\n\n"
            f"{_md(rule.get('reason', ''))}")


def _code(text: Any) -> str:
    """A fenced code block whose fence no backtick run in the text can close."""
    runs = re.findall(r"`+", str(text))
    fence = "`" * max(3, 1 + max((len(r) for r in runs), default=0))
    return f"{fence}\n{text}\n{fence}"


_ATTRIBUTE_DOC = {
    "id": "the entity's code", "name": "the entity's name", "kind": "trust, ccg, ics, ...",
    "type": "the entity's type (acute, mental_health, ...)", "parent": "the entity's parent "
    "in the hierarchy; `parent.x` is a value of the parent", "region": "the entity's region",
}


def hover_text(index: PolicyIndex, name: str) -> str | None:
    """Markdown about a name: a declared name, a built-in or an entity attribute."""
    found = index.lookup(name)
    if found:
        return "\n\n---\n\n".join(s.doc for s in found if s.kind != "rule") or found[0].doc
    if name in BUILTINS:
        b = BUILTINS[name]
        return f"**built-in** `{signature(b)}`\n\n{_md(b.doc)}"
    if name in ENTITY_ATTRIBUTES:
        return f"**entity attribute** `{name}`: {_md(_ATTRIBUTE_DOC[name])}"
    if name == "members":
        return "`members`: the entity's direct members in the hierarchy"
    if name == "level":
        return "`level`: the entity's outcome in earlier periods (in `previous`, `periods_in`)"
    return None


def word_at(text: str, line: int, character: int) -> str | None:
    """The name under a 0-based (line, character) position."""
    lines = text.split("\n")
    if not 0 <= line < len(lines):
        return None
    for m in _WORD.finditer(lines[line]):
        if m.start() <= character <= m.end():
            return m.group(0)
    return None


def definition(index: PolicyIndex, text: str, line: int, character: int
               ) -> tuple[str, Pos] | None:
    """(file, position) declaring the name under the cursor; `extends:` goes to the parent."""
    lines = text.split("\n")
    if index.extends and 0 <= line < len(lines) and re.match(r"\s*extends\s*:", lines[line]):
        return index.extends[1], Pos(1, 1)
    name = word_at(text, line, character)
    if name is None:
        return None
    found = [s for s in index.lookup(name) if s.kind != "rule"] or index.lookup(name)
    if not found:
        return None
    return found[-1].file, found[-1].pos


_COMPARISON_BEFORE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*(==|!=|<=|>=|<|>)\s*"
                                r"(?:\[[^\]]*)?[A-Za-z_0-9]*$")
_IN_BEFORE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s+(?:not\s+)?in\s*\[[^\]]*$")


@dataclass(frozen=True)
class Completion:
    label: str
    kind: str                   # level param input define label function keyword
    detail: str
    insert: str | None = None


def completions(index: PolicyIndex, text: str, line: int, character: int) -> list[Completion]:
    """What may be written at the cursor: scale labels after a rating comparison, level ids
    for `level:`/`default:`, else the names in scope and the built-ins."""
    lines = text.split("\n")
    before = lines[line][:character] if 0 <= line < len(lines) else ""
    m = _COMPARISON_BEFORE.search(before) or _IN_BEFORE.search(before)
    if m and m.group(1) in index.input_scales:
        scale = index.input_scales[m.group(1)]
        return [Completion(label, "label", f"{scale}: {i + 1} of {len(labels)}")
                for labels in [index.scales.get(scale, ())] for i, label in enumerate(labels)]
    levels = [Completion(s.name, "level", s.detail) for ss in index.symbols.values()
              for s in ss if s.kind == "level"]
    if re.match(r"\s*(-\s+)?(level|default)\s*:", before) or (
            m and any(s.kind == "level" for s in index.lookup(m.group(1)))) or (
            m and m.group(1) == "level"):
        return levels
    out = [Completion(s.name, s.kind, s.detail) for ss in index.symbols.values() for s in ss
           if s.kind in ("input", "param", "define", "level", "label")]
    out += [Completion(b.name, "function", signature(b), f"{b.name}(") for b in
            BUILTINS.values()]
    out += [Completion(a, "attribute", f"entity attribute: {_ATTRIBUTE_DOC[a]}")
            for a in ENTITY_ATTRIBUTES]
    return out


def document_symbols(index: PolicyIndex) -> list[Symbol]:
    """The file's own levels, params, inputs, defines and rules, in file order."""
    own = [s for ss in index.symbols.values() for s in ss if s.file == index.file
           and s.kind in ("level", "param", "input", "define", "rule", "scale")]
    return sorted(own, key=lambda s: (s.pos.line, s.pos.col))


# --- diagnostics --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Analysis:
    diagnostics: tuple[Diagnostic, ...]
    define_types: dict[str, str]        # when the policy checks: each define's type, in words


def analyse(text: str, file: str) -> Analysis:
    """Every diagnostic `regime check` reports for the text (errors and warnings), and the
    defines' types when it checks. (The index of names is built separately, when asked for:
    diagnostics are what must come quickly.)"""

    diagnostics: list[Diagnostic] = []
    types: dict[str, str] = {}
    try:
        policy = load_policy_text(text, Path(file), name=file)
        checked = check(policy)
        diagnostics += checked.diagnostics
        for name, d in checked.policy.defines.items():
            if d.expr is not None and d.expr.nid in checked.types:
                types[name] = describe(checked.types[d.expr.nid])
    except RegimeError as e:
        diagnostics += e.diagnostics
    except Exception as e:  # the server must survive any input; say what went wrong
        diagnostics.append(Diagnostic(f"internal error while checking: {type(e).__name__}: {e}",
                                      file=file, pos=Pos(1, 1)))
    return Analysis(tuple(diagnostics), types)


def _utf16(line_text: str, col0: int) -> int:
    """A 0-based character column as UTF-16 code units."""
    prefix = line_text[:col0]
    return col0 + sum(1 for ch in prefix if ord(ch) > 0xFFFF)


def lsp_range(text: str, pos: Pos | None) -> tuple[int, int, int, int]:
    """(start line, start char, end line, end char), 0-based, for a project position: the
    recorded span, else the word at the position, else one character."""
    if pos is None:
        return 0, 0, 0, 1
    lines = text.split("\n")
    line = min(max(pos.line - 1, 0), max(len(lines) - 1, 0))
    line_text = lines[line] if lines else ""
    start = max(pos.col - 1, 0)
    end = pos.end_col - 1 if pos.end_col and pos.end_col - 1 > start else None
    if end is None:
        m = _WORD.match(line_text, start)
        end = m.end() if m else start + 1
    return line, _utf16(line_text, start), line, _utf16(line_text, end)


# --- the server -----------------------------------------------------------------------------------

def uri_to_path(uri: str) -> str:
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return unquote(parsed.path)
    return uri


def make_server():
    """The pygls language server with every feature registered."""
    from lsprotocol import types as t
    from pygls.lsp.server import LanguageServer


    server = LanguageServer("regime", __version__)
    pending: dict[str, asyncio.Task] = {}
    indexes: dict[str, tuple[str, PolicyIndex | None]] = {}     # uri -> (text, its index)
    types: dict[str, dict[str, str]] = {}                       # uri -> last known define types
    lock = threading.Lock()       # analyses run in worker threads, one at a time
    # The schema's compiled validity check pays off from the second analysis on; compiling
    # it beside the first keeps the first diagnostics as quick as before.
    threading.Thread(target=policy_schema.compile_fast_path, daemon=True).start()

    def publish(uri: str, text: str, analysis: Analysis) -> None:
        file = uri_to_path(uri)
        out = []
        for d in analysis.diagnostics:
            own = d.file is None or Path(d.file).resolve() == Path(file).resolve() \
                or d.file == file
            pos = d.pos if own else None
            message = d.message if own else f"{d.file}:{d.pos or ''} {d.message}"
            if d.hint:
                message += f"\nhint: {d.hint}"
            l0, c0, l1, c1 = lsp_range(text, pos)
            out.append(t.Diagnostic(
                range=t.Range(start=t.Position(line=l0, character=c0),
                              end=t.Position(line=l1, character=c1)),
                message=message, source="regime", code=d.code,
                severity=t.DiagnosticSeverity.Warning if d.severity == "warning"
                else t.DiagnosticSeverity.Error))
        server.text_document_publish_diagnostics(
            t.PublishDiagnosticsParams(uri=uri, diagnostics=out))

    def run_analysis(uri: str, text: str) -> Analysis:
        with lock:
            return analyse(text, uri_to_path(uri))

    async def refresh(uri: str, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        doc = server.workspace.get_text_document(uri)
        text = doc.source
        analysis = await asyncio.get_running_loop().run_in_executor(None, run_analysis, uri,
                                                                    text)
        if server.workspace.get_text_document(uri).source != text:
            return          # the text moved on meanwhile: a newer refresh is due
        if analysis.define_types:
            types[uri] = analysis.define_types
        publish(uri, text, analysis)

    def schedule(uri: str, delay: float) -> None:
        old = pending.pop(uri, None)
        if old is not None:
            old.cancel()
        pending[uri] = asyncio.ensure_future(refresh(uri, delay))

    def index_of(uri: str) -> tuple[PolicyIndex | None, str]:
        text = server.workspace.get_text_document(uri).source
        known = indexes.get(uri)
        if known is not None and known[0] == text:
            return known[1], text
        index = build_index(text, uri_to_path(uri), types.get(uri))
        if index is None and known is not None:
            index = known[1]        # YAML broken mid-edit: the last good names still help
        indexes[uri] = (text, index)
        return index, text

    @server.feature(t.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls, params: t.DidOpenTextDocumentParams):
        schedule(params.text_document.uri, 0)

    @server.feature(t.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls, params: t.DidChangeTextDocumentParams):
        schedule(params.text_document.uri, DEBOUNCE_SECONDS)

    @server.feature(t.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls, params: t.DidSaveTextDocumentParams):
        schedule(params.text_document.uri, 0)

    @server.feature(t.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls, params: t.DidCloseTextDocumentParams):
        uri = params.text_document.uri
        task = pending.pop(uri, None)
        if task is not None:
            task.cancel()
        indexes.pop(uri, None)
        server.text_document_publish_diagnostics(
            t.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    @server.feature(t.TEXT_DOCUMENT_HOVER)
    def hover(ls, params: t.HoverParams):
        index, text = index_of(params.text_document.uri)
        name = word_at(text, params.position.line, params.position.character)
        if index is None or name is None:
            return None
        content = hover_text(index, name)
        if content is None:
            return None
        return t.Hover(contents=t.MarkupContent(kind=t.MarkupKind.Markdown, value=content))

    @server.feature(t.TEXT_DOCUMENT_DEFINITION)
    def goto_definition(ls, params: t.DefinitionParams):
        index, text = index_of(params.text_document.uri)
        if index is None:
            return None
        found = definition(index, text, params.position.line, params.position.character)
        if found is None:
            return None
        file, pos = found
        target_text = text if file == index.file else _read(file)
        l0, c0, l1, c1 = lsp_range(target_text, pos)
        return t.Location(uri=Path(file).resolve().as_uri() if file != index.file
                          else params.text_document.uri,
                          range=t.Range(start=t.Position(line=l0, character=c0),
                                        end=t.Position(line=l1, character=c1)))

    kinds = {"level": t.CompletionItemKind.EnumMember, "label": t.CompletionItemKind.EnumMember,
             "param": t.CompletionItemKind.Constant, "input": t.CompletionItemKind.Field,
             "define": t.CompletionItemKind.Variable, "function": t.CompletionItemKind.Function,
             "attribute": t.CompletionItemKind.Property}

    @server.feature(t.TEXT_DOCUMENT_COMPLETION,
                    t.CompletionOptions(trigger_characters=[" ", "(", "="]))
    def complete(ls, params: t.CompletionParams):
        index, text = index_of(params.text_document.uri)
        if index is None:
            return t.CompletionList(is_incomplete=False, items=[])
        items = [t.CompletionItem(label=c.label, kind=kinds.get(c.kind), detail=c.detail,
                                  insert_text=c.insert)
                 for c in completions(index, text, params.position.line,
                                      params.position.character)]
        return t.CompletionList(is_incomplete=False, items=items)

    symbol_kinds = {"level": t.SymbolKind.EnumMember, "param": t.SymbolKind.Constant,
                    "input": t.SymbolKind.Field, "define": t.SymbolKind.Variable,
                    "rule": t.SymbolKind.Event, "scale": t.SymbolKind.Enum}

    @server.feature(t.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def symbols(ls, params: t.DocumentSymbolParams):
        index, text = index_of(params.text_document.uri)
        if index is None:
            return []
        out = []
        for s in document_symbols(index):
            l0, c0, l1, c1 = lsp_range(text, s.pos)
            r = t.Range(start=t.Position(line=l0, character=c0),
                        end=t.Position(line=l1, character=c1))
            out.append(t.DocumentSymbol(name=s.name, detail=s.detail, kind=symbol_kinds[s.kind],
                                        range=r, selection_range=r))
        return out

    @server.feature(t.TEXT_DOCUMENT_FORMATTING)
    def formatting(ls, params: t.DocumentFormattingParams):
        # lark (the formatter parses each expression): only when a document is formatted
        from .fmt import format_text

        text = server.workspace.get_text_document(params.text_document.uri).source
        try:
            out = format_text(text, uri_to_path(params.text_document.uri))
        except RegimeError:
            return []           # the diagnostics already say why it cannot be formatted
        if out == text:
            return []
        lines = text.split("\n")
        end = t.Position(line=len(lines), character=0)
        return [t.TextEdit(range=t.Range(start=t.Position(line=0, character=0), end=end),
                           new_text=out)]

    @server.feature("regime/schema")
    def schema(ls, params):
        """The JSON Schema of policy files, for clients that validate YAML themselves."""
        from importlib.resources import files

        return json.loads(files("rulesengine.policy").joinpath("schema.json")
                          .read_text(encoding="utf-8"))

    return server


def _read(file: str) -> str:
    try:
        # The guarded read (files.py): a pipe or device named like a policy never blocks.
        return read_input(file, limit=POLICY).decode("utf-8")
    except (RegimeError, UnicodeDecodeError):
        return ""


def serve() -> None:
    """Run the language server on stdin/stdout until the client says exit."""
    make_server().start_io()
