"""Load a YAML policy file safely into plain data plus a table of positions.

The data (dicts, lists, str, int, float, bool, None) goes to the JSON Schema; the positions let
every later stage point at the file's own line and column, including inside an embedded
expression (`locator`). Only PyYAML's safe composer is used; alias expansion, nesting depth
and file size are bounded so that hostile files are refused quickly.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any, Callable

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..diagnostics import Diagnostic, PolicyError, Pos, Source

MAX_POLICY_BYTES = 2_000_000
MAX_NODES = 200_000          # after alias expansion: a "billion laughs" file stops here
MAX_YAML_DEPTH = 64

Path = tuple  # keys and indexes from the document root


class _Loader(yaml.SafeLoader):
    """Safe loader whose timestamps stay strings: dates are validated by the schema, not YAML."""


_Loader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass
class Document:
    """A policy file's data with the position of every key and value."""

    source: Source
    data: Any = None
    value_pos: dict[Path, Pos] = field(default_factory=dict)
    key_pos: dict[Path, Pos] = field(default_factory=dict)
    _scalars: dict[Path, ScalarNode] = field(default_factory=dict)

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
        return _scalar_locator(node, self.source.text)


def load_document(text: str, file: str) -> Document:
    """Parse YAML text into a Document, or raise PolicyError with a located diagnostic."""
    source = Source(file, text)
    if len(text.encode("utf-8", "surrogatepass")) > MAX_POLICY_BYTES:
        raise PolicyError(Diagnostic(
            f"policy file too large ({len(text):,} characters; the limit is "
            f"{MAX_POLICY_BYTES:,} bytes)", file=file, code="too-large"))
    doc = Document(source)
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as e:
        raise PolicyError(_yaml_diagnostic(e, source)) from None
    except yaml.YAMLError as e:
        raise PolicyError(Diagnostic(f"invalid YAML: {e}", file=file, code="yaml")) from None
    except RecursionError:
        raise PolicyError(Diagnostic("YAML nested too deeply", file=file, code="too-deep")) from None
    finally:
        loader.dispose()
    if root is None:
        raise PolicyError(Diagnostic("the policy file is empty", file=file, code="empty"))
    walker = _Walker(doc, loader)
    doc.data = walker.build(root, ())
    return doc


def _yaml_diagnostic(e: yaml.MarkedYAMLError, source: Source) -> Diagnostic:
    mark = e.problem_mark or e.context_mark
    pos = Pos(mark.line + 1, mark.column + 1) if mark else None
    message = e.problem or "invalid YAML"
    if e.context and e.problem:
        message = f"{e.context}: {e.problem}" if "while" not in e.context else e.problem
    return Diagnostic(f"invalid YAML: {message}", file=source.file, pos=pos, code="yaml",
                      source_line=source.line(pos.line) if pos else None)


class _Walker:
    """Turns composed YAML nodes into plain data, recording positions, with bounded expansion."""

    def __init__(self, doc: Document, loader: _Loader) -> None:
        self.doc = doc
        self.loader = loader
        self.count = 0

    def _fail(self, message: str, node: Node, code: str) -> PolicyError:
        m = node.start_mark
        pos = Pos(m.line + 1, m.column + 1)
        return PolicyError(Diagnostic(message, file=self.doc.source.file, pos=pos, code=code,
                                      source_line=self.doc.source.line(pos.line)))

    def build(self, node: Node, path: Path) -> Any:
        # Iterative over a work stack: neither deep files nor alias chains touch Python's stack.
        root_holder: list[Any] = [None]
        stack: list[tuple[Node, Path, Any, Any]] = [(node, path, root_holder, 0)]
        while stack:
            node, path, parent, slot = stack.pop()
            self.count += 1
            if self.count > MAX_NODES:
                raise self._fail(f"YAML expands to more than {MAX_NODES:,} values (aliases?); "
                                 "refusing it", node, "too-large")
            if len(path) > MAX_YAML_DEPTH:
                raise self._fail(f"YAML nested more than {MAX_YAML_DEPTH} levels deep", node,
                                 "too-deep")
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
                self.loader.flatten_mapping(node)
                value = {}
                children = []
                for key_node, value_node in node.value:
                    if not isinstance(key_node, ScalarNode):
                        raise self._fail("mapping keys must be plain names", key_node, "yaml")
                    key = self._scalar(key_node)
                    if not isinstance(key, (str, int, float, bool)) or isinstance(key, bool):
                        key = str(key_node.value)
                    key = str(key) if not isinstance(key, str) else key
                    if key in value:
                        raise self._fail(f"duplicate key '{key}'", key_node, "duplicate-key")
                    value[key] = None
                    km = key_node.start_mark
                    self.doc.key_pos[path + (key,)] = Pos(km.line + 1, km.column + 1,
                                                          km.column + 1 + len(key))
                    children.append((value_node, path + (key,), value, key))
                stack.extend(reversed(children))
            else:  # pragma: no cover - composer yields only the three node kinds
                raise self._fail("unsupported YAML node", node, "yaml")
            parent[slot] = value
        return root_holder[0]

    def _scalar(self, node: ScalarNode) -> Any:
        try:
            return self.loader.construct_object(node, deep=False)
        except yaml.constructor.ConstructorError as e:
            raise self._fail(f"invalid YAML value: {e.problem}", node, "yaml") from None
        except (ValueError, OverflowError):
            return node.value


def _scalar_locator(node: ScalarNode, text: str) -> Callable[[int], tuple[int, int]]:
    """Align the scalar's value with its raw text, so offsets map through quotes, escapes,
    folded lines and block indentation to real file positions."""
    start, end = node.start_mark.index, node.end_mark.index
    raw = text[start:end]
    value = node.value
    line_starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            line_starts.append(i + 1)

    j = 0
    if node.style in ("'", '"'):
        j = 1
    elif node.style in ("|", ">"):
        j = raw.find("\n") + 1 if "\n" in raw else len(raw)
    indexes: list[int] = []
    for ch in value:
        k = j
        while k < len(raw) and raw[k] != ch and not (ch in " \n" and raw[k] in " \n\t"):
            k += 1
        if k >= len(raw):
            k = min(j, max(len(raw) - 1, 0))
        indexes.append(k)
        j = k + 1

    def locate(offset: int) -> tuple[int, int]:
        if not indexes:
            absolute = start
        elif offset < len(indexes):
            absolute = start + indexes[max(offset, 0)]
        else:
            absolute = start + indexes[-1] + (offset - len(indexes) + 1)
        line = bisect.bisect_right(line_starts, absolute) - 1
        return line + 1, absolute - line_starts[line] + 1

    return locate
