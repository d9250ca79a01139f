"""Load a YAML policy file safely into plain data plus a table of positions.

The data (dicts, lists, str, int, float, bool, None) goes to the JSON Schema; the positions let
every later stage point at the file's own line and column, including inside an embedded
expression (`locator`). Only PyYAML's safe composer is used; alias expansion, nesting depth
and file size are bounded so that hostile files are refused quickly.
"""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .. import codes
from ..diagnostics import (MAX_NUMBER_CHARS, Diagnostic, PolicyError, Pos, Source, elide,
                           line_starts)

from ..files import POLICY as _POLICY_LIMIT
from .yaml_errors import located, reader_diagnostic, yaml_diagnostic

MAX_POLICY_BYTES = _POLICY_LIMIT.default      # REGIME_MAX_POLICY_BYTES raises it (files.py)
MAX_NODES = 200_000          # after alias expansion: a "billion laughs" file stops here
MAX_YAML_DEPTH = 64

Path = tuple  # keys and indexes from the document root


class _TooDeep(yaml.MarkedYAMLError):
    """Raised by the scanner as soon as nesting passes MAX_YAML_DEPTH."""


class _Loader(yaml.SafeLoader):
    """Safe loader whose timestamps stay strings: dates are validated by the schema, not YAML.

    Nesting is bounded while scanning, before PyYAML's recursive composer and its scanner's
    per-level bookkeeping (quadratic in the depth of `[[[[...`) can run away."""

    def fetch_flow_collection_start(self, TokenClass):
        if self.flow_level >= MAX_YAML_DEPTH:
            raise _TooDeep(None, None, f"YAML nested more than {MAX_YAML_DEPTH} levels deep",
                           self.get_mark())
        super().fetch_flow_collection_start(TokenClass)

    def add_indent(self, column):
        if len(self.indents) >= MAX_YAML_DEPTH:
            raise _TooDeep(None, None, f"YAML nested more than {MAX_YAML_DEPTH} levels deep",
                           self.get_mark())
        return super().add_indent(column)


# The YAML 1.2 core schema is the one dialect of policy files (README, "YAML dialect"):
# numbers are decimal and mean what they say (017 is 17, never 15), true/false are the only
# booleans (on, yes, no and off are text), and 1:30, 0x10, 0o17 and 0b101 are text, not
# numbers in another base. Timestamps stay text: dates are validated by the schema. Merge
# keys (<<) are kept from YAML 1.1, with YAML's rule that a key of the mapping overrides a
# merged one.
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT = re.compile(r"^[-+]?[0-9]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_NON_FINITE = re.compile(r"^(?:[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")
_MERGE = re.compile(r"^<<$")

MERGE_TAG = "tag:yaml.org,2002:merge"


def _core_resolvers() -> dict:
    table: dict[str | None, list] = {}
    for tag, rx, first in (
            ("tag:yaml.org,2002:null", _NULL, ["~", "n", "N", ""]),
            ("tag:yaml.org,2002:bool", _BOOL, list("tTfF")),
            ("tag:yaml.org,2002:int", _INT, list("-+0123456789")),
            ("tag:yaml.org,2002:float", _FLOAT, list("-+.0123456789")),
            ("tag:yaml.org,2002:float", _NON_FINITE, list("-+.")),
            (MERGE_TAG, _MERGE, ["<"])):
        for ch in first:
            table.setdefault(ch, []).append((tag, rx))
    return table


_Loader.yaml_implicit_resolvers = _core_resolvers()


class Dumper(yaml.SafeDumper):
    """Writes YAML that reads back the same under this dialect and under YAML 1.1 alike: a
    string either would take for something else ('1e5', '017', 'yes', '0x10') is quoted."""


Dumper.yaml_implicit_resolvers = {
    ch: list(yaml.SafeDumper.yaml_implicit_resolvers.get(ch, []))
    + list(_Loader.yaml_implicit_resolvers.get(ch, []))
    for ch in set(yaml.SafeDumper.yaml_implicit_resolvers) | set(_Loader.yaml_implicit_resolvers)
}


def dump_yaml(data: Any) -> str:
    """Plain data as policy-file YAML text (see Dumper)."""
    return yaml.dump(data, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=100)


class ScalarProblem(ValueError):
    """A value a policy file may not hold: a number too long to be a real figure, or not
    finite, or an explicitly tagged value (!!int, !!bool) not in the core schema's form."""


def core_number(text: str) -> int | float:
    """A YAML 1.2 core number (already resolved as one) as Python reads it, decimal only.
    Raises ScalarProblem for numbers with more than MAX_NUMBER_CHARS characters (Python's
    int() refuses 4,300 digits; no figure in a policy has a hundred) and for non-finite ones
    (.inf, .nan, 1e999), which no comparison or rank can use."""
    if len(text) > MAX_NUMBER_CHARS:
        raise ScalarProblem(f"number too long ({len(text):,} characters; the limit is "
                            f"{MAX_NUMBER_CHARS})")
    if _INT.match(text):
        return int(text, 10)
    if not (_FLOAT.match(text) or _NON_FINITE.match(text)):
        raise ScalarProblem(f"'{elide(text)}' is not a decimal number")
    value = float(text.replace(".inf", "inf").replace(".Inf", "inf").replace(".INF", "inf")
                  .replace(".nan", "nan").replace(".NaN", "nan").replace(".NAN", "nan"))
    if not math.isfinite(value):
        raise ScalarProblem(f"{elide(text)} is not a finite number" if _NON_FINITE.match(text)
                            else f"number too large: {elide(text)}")
    return value


def _construct_number(loader, node):
    return core_number(loader.construct_scalar(node))


def _construct_bool(loader, node):
    text = loader.construct_scalar(node)
    if not _BOOL.match(text):
        raise ScalarProblem(f"'{elide(text)}' is not true or false")
    return text.lower() == "true"


_Loader.add_constructor("tag:yaml.org,2002:int", _construct_number)
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_number)
_Loader.add_constructor("tag:yaml.org,2002:bool", _construct_bool)

# libyaml's parser, when PyYAML was built with it: the same nodes, marks and core-schema
# resolution as _Loader, five times faster (most of a language server's time per keystroke
# went on PyYAML's pure-Python scanner). The two scanners differ at a few edges (tabs, a
# byte-order mark's column, '?' in flow values), and libyaml cannot bound nesting while
# scanning and composes recursively in C. So it reads only text with a cheap nesting bound
# (_FAST_DEPTH_BOUND) and no tab or byte-order mark; a tree it reads differently, deeper than
# MAX_YAML_DEPTH, or any error goes to _Loader, whose diagnostics are the documented ones.
try:
    from yaml._yaml import CParser as _CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _CParser = None
_FAST_DEPTH_BOUND = 1000

if _CParser is not None:
    class _FastLoader(_CParser, yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
        def __init__(self, stream):
            _CParser.__init__(self, stream)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)

    _FastLoader.yaml_implicit_resolvers = _Loader.yaml_implicit_resolvers
    _FastLoader.yaml_constructors = _Loader.yaml_constructors
else:  # pragma: no cover - PyYAML built without libyaml
    _FastLoader = None


def _nesting_bound(text: str) -> int:
    """An upper bound on the YAML nesting depth of `text`: each block level indents at least
    one column past its parent's (a block list may share its key's column: hence twice), and
    each flow level needs its own bracket."""
    widest = max((len(line) - len(line.lstrip(" ")) for line in text.splitlines()), default=0)
    return 2 * (widest + 1) + text.count("[") + text.count("{")


def _judged_alike(root: Node, limit: int) -> bool:
    """Whether PyYAML would have composed the same tree: no deeper than `limit` levels (an
    alias that contains itself counts as too deep: _Loader's path reports it), and no plain
    value inside a flow collection holding '?', which libyaml reads as text and PyYAML's
    scanner as a key indicator."""
    stack: list[tuple[Node, int, bool]] = [(root, 1, False)]
    seen: set[tuple[int, int]] = set()
    while stack:
        node, depth, in_flow = stack.pop()
        if depth > limit:
            return False
        if isinstance(node, ScalarNode):
            if in_flow and node.style is None and "?" in node.value:
                return False
            continue
        if (id(node), depth) in seen:
            continue
        seen.add((id(node), depth))
        flow = in_flow or bool(node.flow_style)
        stack.extend((child, depth + 1, flow) for child in _children(node))
    return True


def _compose_fast(text: str):
    """(root node, loader) parsed by libyaml, or None where _Loader must parse the text."""
    if (_FastLoader is None or "\t" in text or "\ufeff" in text
            or _nesting_bound(text) > _FAST_DEPTH_BOUND):
        return None     # libyaml accepts tabs where PyYAML (so the dialect) does not, and
    #                     counts a byte-order mark's column differently
    loader = _FastLoader(text)
    try:
        root = loader.get_single_node()
    except (yaml.YAMLError, RecursionError):
        return None
    finally:
        loader.dispose()
    if root is not None and not _judged_alike(root, MAX_YAML_DEPTH):
        return None
    return root, loader


@dataclass
class Document:
    """A policy file's data with the position of every key and value."""

    source: Source
    data: Any = None
    value_pos: dict[Path, Pos] = field(default_factory=dict)
    key_pos: dict[Path, Pos] = field(default_factory=dict)
    _scalars: dict[Path, ScalarNode] = field(default_factory=dict)
    _line_starts: list[int] | None = None

    def pos(self, path: Path) -> Pos | None:
        """Position of the value at `path`, or of the nearest enclosing value that has one."""
        path = tuple(path)
        while path not in self.value_pos and path:
            path = path[:-1]
        return self.value_pos.get(path)

    def key(self, path: Path) -> Pos | None:
        """Position of the key that names the value at `path` (falls back to the value)."""
        return self.key_pos.get(tuple(path)) or self.pos(path)

    def locator(self, path: Path) -> Callable[[int], tuple[int, int]]:
        """Map an offset in the string at `path` to (line, col) in the file."""
        node = self._scalars.get(tuple(path))
        if node is None:
            p = self.pos(path) or Pos(1, 1)
            return lambda offset: (p.line, p.col + offset)
        if self._line_starts is None:
            self._line_starts = line_starts(self.source.text)
        return _scalar_locator(node, self.source.text, self._line_starts)


def load_document(text: str, file: str) -> Document:
    """Parse YAML text into a Document, or raise PolicyError with a located diagnostic."""
    source = Source(file, text)
    limit = _POLICY_LIMIT.value()
    size = len(text.encode("utf-8", "surrogatepass")) if len(text) * 4 > limit else len(text)
    if size > limit:
        raise PolicyError(_POLICY_LIMIT.diagnostic(size, file))
    doc = Document(source)
    fast = _compose_fast(text)
    if fast is not None:
        root, loader = fast
    else:
        root, loader = _compose(text, source)
    if root is None:
        raise PolicyError(Diagnostic("the policy file is empty", file=file, code=codes.EMPTY))
    _refuse_alias_explosion(root, source)
    walker = _Walker(doc, loader)
    doc.data = walker.build(root, ())
    return doc


def _compose(text: str, source: Source):
    """(root node, loader) parsed by PyYAML's Python parser, or PolicyError located."""
    file = source.file
    loader = None
    try:
        loader = _Loader(text)
        root = loader.get_single_node()
    except _TooDeep as e:
        raise PolicyError(located(e.problem, e.problem_mark, source, codes.TOO_DEEP)) from None
    except yaml.MarkedYAMLError as e:
        raise PolicyError(yaml_diagnostic(e, source)) from None
    except yaml.reader.ReaderError as e:
        raise PolicyError(reader_diagnostic(e, source)) from None
    except yaml.YAMLError as e:
        raise PolicyError(Diagnostic(f"invalid YAML: {e}", file=file, code=codes.YAML)) from None
    except RecursionError:  # belt and braces: the scanner's depth limit fires first
        raise PolicyError(Diagnostic("YAML nested too deeply", file=file, code=codes.TOO_DEEP)) from None
    finally:
        if loader is not None:
            loader.dispose()
    return root, loader


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _refuse_alias_explosion(root: Node, source: Source) -> None:
    """Refuse a document whose aliases expand it past MAX_NODES values, or that contains
    itself, before expanding anything: the expanded size of each distinct node is computed
    once, so a 'billion laughs' costs as little as its own few lines."""
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            size[key] = min(1 + sum(size[id(c)] for c in _children(node)), MAX_NODES + 1)
            continue
        if key in size:
            continue
        if key in on_path:
            raise PolicyError(located("invalid YAML: an alias refers to the list or mapping "
                                       "that contains it", node.start_mark, source,
                                       "too-large"))
        on_path.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in reversed(_children(node)) if id(c) not in size)
    if size[id(root)] <= MAX_NODES:
        return
    culprit = root
    if isinstance(root, MappingNode) and root.value:
        culprit = max(root.value, key=lambda kv: size[id(kv[1])])[0]
    raise PolicyError(located(f"YAML expands to more than {MAX_NODES:,} values; refusing it "
                               "(aliases '*' repeating an anchor '&' many times?)",
                               culprit.start_mark, source, "too-large"))


class _Walker:
    """Turns composed YAML nodes into plain data, recording positions, with bounded expansion."""

    def __init__(self, doc: Document, loader: _Loader) -> None:
        self.doc = doc
        self.loader = loader
        self.count = 0
        self.top_keys: dict[str, Node] = {}

    def _fail(self, message: str, node: Node, code: str, hint: str | None = None) -> PolicyError:
        m = node.start_mark
        pos = Pos(m.line + 1, m.column + 1)
        return PolicyError(Diagnostic(message, file=self.doc.source.file, pos=pos, code=code,
                                      source_line=self.doc.source.line(pos.line), hint=hint))

    def build(self, node: Node, path: Path) -> Any:
        # Iterative over a work stack: neither deep files nor alias chains touch Python's stack.
        root_holder: list[Any] = [None]
        stack: list[tuple[Node, Path, Any, Any]] = [(node, path, root_holder, 0)]
        while stack:
            node, path, parent, slot = stack.pop()
            self.count += 1
            if self.count > MAX_NODES:
                if path:   # the top-level key whose value blows up names the culprit
                    node = self.top_keys.get(path[0], node)
                raise self._fail(f"YAML expands to more than {MAX_NODES:,} values; refusing it "
                                 "(aliases '*' repeating an anchor '&' many times?)", node,
                                 "too-large")
            if len(path) > MAX_YAML_DEPTH:
                raise self._fail(f"YAML nested more than {MAX_YAML_DEPTH} levels deep", node,
                                 codes.TOO_DEEP)
            m, e = node.start_mark, node.end_mark
            end_col = e.column + 1 if (isinstance(node, ScalarNode) and e.line == m.line) else None
            self.doc.value_pos.setdefault(path, Pos(m.line + 1, m.column + 1, end_col))
            if isinstance(node, ScalarNode):
                value = self._scalar(node)
                if isinstance(value, str):
                    self.doc._scalars.setdefault(path, node)
            elif isinstance(node, SequenceNode):
                value = [None] * len(node.value)
                for i, child in reversed(list(enumerate(node.value))):
                    stack.append((child, path + (i,), value, i))
            elif isinstance(node, MappingNode):
                value = {}
                children = {}
                for key, key_node, value_node in self._pairs(node, 0):
                    value[key] = None
                    km = key_node.start_mark
                    if not path:
                        self.top_keys[key] = key_node
                    self.doc.key_pos[path + (key,)] = Pos(km.line + 1, km.column + 1,
                                                          km.column + 1 + len(key))
                    children[key] = (value_node, path + (key,), value, key)
                stack.extend(reversed(children.values()))
            else:  # pragma: no cover - composer yields only the three node kinds
                raise self._fail("unsupported YAML node", node, codes.YAML)
            parent[slot] = value
        return root_holder[0]

    def _key(self, key_node: Node) -> str:
        if not isinstance(key_node, ScalarNode):
            raise self._fail("mapping keys must be plain names", key_node, codes.YAML)
        key = self._scalar(key_node)
        if not isinstance(key, (str, int, float)) or isinstance(key, bool):
            key = str(key_node.value)
        return str(key) if not isinstance(key, str) else key

    def _pairs(self, node: MappingNode, depth: int) -> list[tuple[str, Node, Node]]:
        """The mapping's (key, key node, value node) triples with merge keys (<<) applied as
        YAML defines them: the mapping's own keys override merged ones, and of several merged
        mappings the first to give a key wins. A key written twice in the mapping itself is
        an error."""
        own: dict[str, tuple[Node, Node]] = {}
        merged: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.tag == MERGE_TAG:
                sources = value_node.value if isinstance(value_node, SequenceNode) \
                    else [value_node]
                if depth >= MAX_YAML_DEPTH:
                    raise self._fail(f"YAML merge keys '<<' nested more than {MAX_YAML_DEPTH} "
                                     "levels deep", key_node, codes.TOO_DEEP)
                for source in sources:
                    if not isinstance(source, MappingNode):
                        raise self._fail("invalid YAML: '<<' merges a mapping (an alias '*' of "
                                         "one) or a list of mappings", source, codes.YAML)
                    for key, k, v in self._pairs(source, depth + 1):
                        merged.setdefault(key, (k, v))
                continue
            key = self._key(key_node)
            if key in own:
                raise self._fail(f"duplicate key '{key}'", key_node, "duplicate-key")
            own[key] = (key_node, value_node)
        pairs = {**merged, **own} if merged else own
        return [(key, k, v) for key, (k, v) in pairs.items()]

    def _scalar(self, node: ScalarNode) -> Any:
        try:
            return self.loader.construct_object(node, deep=False)
        except ScalarProblem as e:
            hint = "put it in quotes if it is text"
            if "finite" in str(e):
                hint = "a policy's numbers are finite: write one, or quote it if it is text"
            raise self._fail(str(e), node, "number", hint=hint) from None
        except yaml.constructor.ConstructorError as e:
            if node.tag.startswith("!") and "could not determine a constructor" in (e.problem or ""):
                raise self._fail(f"invalid YAML: '{node.tag}' is read as a YAML tag", node, codes.YAML,
                                 hint="put the whole value in quotes (and write 'not' for "
                                      "negation, not '!')") from None
            raise self._fail(f"invalid YAML value: {e.problem}", node, codes.YAML) from None
        except (ValueError, OverflowError):
            return node.value


_SEARCH_BLANKS = 256    # bounds on the alignment search per character, so that aligning
_SEARCH_OTHER = 16      # a pathological scalar stays linear in its length

_ESCAPES = {"0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n", "v": "\v",
            "f": "\f", "r": "\r", "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\",
            "N": "\x85", "_": "\xa0", "L": "\u2028", "P": "\u2029"}
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}


def _raw_units(raw: str, style: str | None) -> Iterator[tuple[str, int]]:
    """The scalar's source as (character it stands for, offset in `raw`) pairs: escapes in
    double quotes and '' in single quotes decoded, quotes and block headers left out. Line
    folding is left to the aligner, which lets value whitespace match any source whitespace."""
    i, end = 0, len(raw)
    if style in ("'", '"'):
        i, end = 1, max(1, len(raw) - 1)
    elif style in ("|", ">"):
        i = raw.find("\n") + 1 if "\n" in raw else len(raw)
    while i < end:
        ch = raw[i]
        if style == '"' and ch == "\\" and i + 1 < end:
            nxt = raw[i + 1]
            if nxt in "\r\n":                      # escaped line break: joins the lines
                i += 2
                continue
            if nxt in _HEX_ESCAPES:
                width = _HEX_ESCAPES[nxt]
                try:
                    yield chr(int(raw[i + 2:i + 2 + width], 16)), i
                except ValueError:
                    yield ch, i
                i += 2 + width
                continue
            yield _ESCAPES.get(nxt, nxt), i
            i += 2
            continue
        if style == "'" and raw.startswith("''", i):
            yield "'", i
            i += 2
            continue
        yield ch, i
        i += 1


def _scalar_locator(node: ScalarNode, text: str,
                    starts: list[int]) -> Callable[[int], tuple[int, int]]:
    """Align the scalar's value with its raw text, so offsets map through quotes, escapes,
    folded lines and block indentation to real file positions. The alignment is computed
    lazily, only as far as the offsets asked for (an error at the start of a huge value
    costs little)."""
    start, end = node.start_mark.index, node.end_mark.index
    value = node.value
    source = _raw_units(text[start:end], node.style)
    units: list[tuple[str, int]] = []
    indexes: list[int] = []
    j = 0                                 # the next unit to match

    def available(k: int) -> bool:
        """Whether unit k exists, decoding the raw text only as far as needed."""
        while len(units) <= k:
            nxt = next(source, None)
            if nxt is None:
                return False
            units.append(nxt)
        return True

    def align_to(upto: int) -> None:
        nonlocal j
        while len(indexes) <= upto and len(indexes) < len(value):
            ch = value[len(indexes)]
            k, blanks, other = j, 0, 0
            while available(k):
                u = units[k][0]
                if u == ch or (ch in " \n" and u in " \n\t\r"):
                    break
                if u in " \t\r\n":
                    blanks += 1
                else:
                    other += 1
                if blanks > _SEARCH_BLANKS or other > _SEARCH_OTHER:
                    k = -1
                    break
                k += 1
            if k < 0 or not available(k):  # not found nearby: keep to where we are
                available(j)
                k = min(j, len(units) - 1)
            if k < 0:
                indexes.append(0)
                continue
            indexes.append(units[k][1])
            j = k + 1

    def locate(offset: int) -> tuple[int, int]:
        offset = max(offset, 0)
        align_to(offset)
        if not indexes:
            absolute = start
        elif offset < len(indexes):
            absolute = start + indexes[offset]
        else:
            absolute = start + indexes[-1] + (offset - len(indexes) + 1)
        line = bisect.bisect_right(starts, absolute) - 1
        return line + 1, absolute - starts[line] + 1

    return locate
