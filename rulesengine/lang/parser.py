"""Parse one embedded expression into AST nodes located in the policy file.

The Lark LALR parser runs with an inline transformer, so nodes are built as the parser
reduces, without recursion: a 10,000-deep expression is refused by the depth limit, not by
Python's stack. Syntax errors become diagnostics written for policy authors.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib.resources import files
from typing import Callable

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from ..diagnostics import Pos
from . import ast

# Refusals in bounded time and memory; both are far beyond any real policy.
MAX_EXPRESSION_CHARS = 20_000
MAX_DEPTH = 64

Locate = Callable[[int], tuple[int, int]]   # offset in the expression -> (line, col) in the file


@dataclass(frozen=True)
class SyntaxProblem(Exception):
    """A syntax error at an offset in the expression text; the caller turns it into a diagnostic."""

    message: str
    offset: int
    length: int = 1
    hint: str | None = None


@lru_cache(maxsize=1)
def _lark() -> Lark:
    grammar = files("rulesengine.lang").joinpath("grammar.lark").read_text(encoding="utf-8")
    # keep_all_tokens: keywords and brackets stay in the children, so each callback can
    # compute its node's span from its first and last child without Lark's meta (which an
    # inline transformer does not get).
    return Lark(grammar, parser="lalr", lexer="contextual", keep_all_tokens=True,
                maybe_placeholders=True, transformer=_Builder(), cache=False)


class NodeIds:
    """Hands out node ids unique within one policy."""

    def __init__(self, start: int = 1) -> None:
        self._counter = itertools.count(start)

    def next(self) -> int:
        return next(self._counter)


_BUILD = None  # the per-parse build context, set by parse(); Lark's transformer is shared


class _Context:
    def __init__(self, text: str, locate: Locate, ids: NodeIds) -> None:
        self.text = text
        self.locate = locate
        self.ids = ids
        self.depth: dict[int, int] = {}

    def make(self, cls, start: int, end: int, *children_and_fields, **kw):
        line, col = self.locate(start)
        end_line, end_col = self.locate(max(start, end - 1))
        pos = Pos(line, col, end_col + 1 if end_line == line else None)
        node = cls(self.ids.next(), pos, (start, end), *children_and_fields, **kw)
        depth = 1 + max((self.depth.get(c.nid, 1) for c in node.children()), default=0)
        if depth > MAX_DEPTH:
            raise SyntaxProblem(f"expression nested too deeply (more than {MAX_DEPTH} levels)",
                                start, hint="split it into named expressions under 'define'")
        self.depth[node.nid] = depth
        return node

    def pos(self, offset: int) -> Pos:
        line, col = self.locate(offset)
        return Pos(line, col)


@dataclass(frozen=True)
class _List:
    """A bracketed list while parsing: its items and its span, brackets included."""

    items: tuple
    span: tuple[int, int]


def _start(item) -> int:
    return item.start_pos if isinstance(item, Token) else item.span[0]


def _end(item) -> int:
    return item.end_pos if isinstance(item, Token) else item.span[1]


def _bounds(children) -> tuple[int, int]:
    items = [c for c in children if c is not None and not isinstance(c, list)]
    return _start(items[0]), _end(items[-1])


def _nodes(children) -> list:
    """The children that are AST nodes (or argument lists), without keyword/bracket tokens."""
    return [c for c in children if not isinstance(c, Token)]


class _Builder(Transformer):
    """Builds AST nodes as the LALR parser reduces (one method per grammar alternative)."""

    def _c(self) -> _Context:
        assert _BUILD is not None
        return _BUILD

    def number(self, children):
        (tok,) = children
        return self._c().make(ast.Number, tok.start_pos, tok.end_pos, float(tok), "number")

    def percent(self, children):
        (tok,) = children
        return self._c().make(ast.Number, tok.start_pos, tok.end_pos, float(tok[:-1]), "percent")

    def money(self, children):
        (tok,) = children
        text = tok[1:]
        scale = 1.0
        for suffix, factor in (("bn", 1e9), ("m", 1e6), ("k", 1e3)):
            if text.endswith(suffix):
                text, scale = text[: -len(suffix)], factor
                break
        return self._c().make(ast.Number, tok.start_pos, tok.end_pos, float(text) * scale,
                              "money")

    def string(self, children):
        (tok,) = children
        return self._c().make(ast.String, tok.start_pos, tok.end_pos, tok[1:-1])

    def true(self, children):
        return self._c().make(ast.Bool, *_bounds(children), True)

    def false(self, children):
        return self._c().make(ast.Bool, *_bounds(children), False)

    def name(self, children):
        (tok,) = children
        return self._c().make(ast.Name, tok.start_pos, tok.end_pos, str(tok))

    def attribute(self, children):
        obj, _dot, attr = children
        return self._c().make(ast.Attribute, obj.start_pos, attr.end_pos, str(obj), str(attr))

    def atom(self, children):
        # "(" expr ")": the inner node, its span widened to take in the brackets so that
        # quoting a node's source text (explain, coverage) never shows half a bracket pair.
        (inner,) = _nodes(children)
        start, end = _bounds(children)
        line, col = self._c().locate(start)
        end_col = inner.pos.end_col + 1 if inner.pos.end_col and inner.pos.line == line else None
        return replace(inner, span=(start, end), pos=Pos(line, col, end_col))

    def call(self, children):
        func, _lpar, arguments, rpar = children
        args: list[ast.Node] = []
        kwargs: list[ast.Keyword] = []
        for a in arguments or []:
            if isinstance(a, ast.Keyword):
                if any(k.name == a.name for k in kwargs):
                    raise SyntaxProblem(f"keyword argument '{a.name}' given twice",
                                        a.value.span[0])
                kwargs.append(a)
            elif kwargs:
                raise SyntaxProblem("a positional argument cannot follow a keyword argument",
                                    a.span[0], a.span[1] - a.span[0])
            else:
                args.append(a)
        c = self._c()
        return c.make(ast.Call, func.start_pos, rpar.end_pos, str(func), c.pos(func.start_pos),
                      tuple(args), tuple(kwargs))

    def arguments(self, children):
        return [c for c in children if not isinstance(c, Token)]

    def kwarg(self, children):
        key, _eq, value = children
        return ast.Keyword(str(key), value, self._c().pos(key.start_pos))

    def list(self, children):
        items = tuple(c for c in children if c is not None and not isinstance(c, Token))
        return _List(items, (children[0].start_pos, children[-1].end_pos))

    def neg(self, children):
        (operand,) = _nodes(children)
        return self._c().make(ast.Unary, *_bounds(children), "-", operand)

    def not_(self, children):
        (operand,) = _nodes(children)
        return self._c().make(ast.Unary, *_bounds(children), "not", operand)

    def _binary(self, children, op):
        left, right = _nodes(children)
        return self._c().make(ast.Binary, *_bounds(children), op, left, right)

    def and_(self, children):
        return self._binary(children, "and")

    def or_(self, children):
        return self._binary(children, "or")

    def compare(self, children):
        return self._binary(children, str(children[1]))

    def arith(self, children):
        return self._binary(children, str(children[1]))

    def in_(self, children):
        operand, items = _nodes(children)
        return self._c().make(ast.In, *_bounds(children), operand, items.items, False)

    def not_in(self, children):
        operand, items = _nodes(children)
        return self._c().make(ast.In, *_bounds(children), operand, items.items, True)

    def between(self, children):
        return self._c().make(ast.Between, *_bounds(children), *_nodes(children))

    def if_(self, children):
        return self._c().make(ast.If, *_bounds(children), *_nodes(children))

    def lag(self, children):
        operand, _lsqb, _minus, n, rsqb = children
        periods = int(n)
        if periods < 1:
            raise SyntaxProblem("a lag looks back at least one period: write x[-1], x[-2], ...",
                                n.start_pos - 1, len(n) + 1)
        return self._c().make(ast.Lag, operand.span[0], rsqb.end_pos, operand, periods)


def parse(text: str, locate: Locate, ids: NodeIds) -> ast.Node:
    """Parse `text`; raise SyntaxProblem (offset-based) on any error."""
    global _BUILD
    if len(text) > MAX_EXPRESSION_CHARS:
        raise SyntaxProblem(f"expression too long ({len(text):,} characters; the limit is "
                            f"{MAX_EXPRESSION_CHARS:,})", 0,
                            hint="split it into named expressions under 'define'")
    if not text.strip():
        raise SyntaxProblem("empty expression", 0)
    _BUILD = _Context(text, locate, ids)
    try:
        return _lark().parse(text)
    except UnexpectedInput as e:
        raise _explain(e, text) from None
    except RecursionError:  # belt and braces: the depth limit should fire first
        raise SyntaxProblem("expression nested too deeply", 0) from None
    finally:
        _BUILD = None


# --- syntax error messages -------------------------------------------------------------------

_OPERAND_TERMINALS = {"NAME", "NUMBER", "PERCENT", "MONEY", "STRING", "LPAR", "TRUE", "FALSE"}

_READABLE = {
    "RPAR": "')'", "LPAR": "'('", "RSQB": "']'", "LSQB": "'['", "COMMA": "','", "DOT": "'.'",
    "EQUAL": "'='", "MINUS": "'-'", "COMP_OP": "a comparison", "ADD_OP": "'+' or '-'",
    "MUL_OP": "'*' or '/'", "NAME": "a name", "NUMBER": "a number", "INT": "a whole number",
    "PERCENT": "a percentage", "MONEY": "an amount of money", "STRING": "a string",
    "$END": "the end of the expression",
}


def _readable(terminal: str) -> str:
    if terminal in _READABLE:
        return _READABLE[terminal]
    if terminal.isalpha() and terminal.isupper():
        return f"'{terminal.lower()}'"  # keyword terminals: IF, THEN, AND, ...
    return terminal


def _token_text(tok: Token) -> str:
    if tok.type == "$END":
        return "the end of the expression"
    return f"'{tok}'"


def _unclosed(text: str, upto: int) -> tuple[str, int] | None:
    """The innermost bracket still open at `upto`, ignoring brackets inside strings."""
    stack: list[tuple[str, int]] = []
    quote = None
    for i, ch in enumerate(text[:upto]):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch in "([":
            stack.append((ch, i))
        elif ch in ")]" and stack:
            stack.pop()
    return stack[-1] if stack else None


def _open_if(text: str, upto: int) -> str | None:
    """Which keyword an unfinished `if` still waits for at `upto`: "then", "else" or None."""
    waiting: list[str] = []
    for word in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", _strip_strings(text[:upto])):
        if word == "if":
            waiting.append("then")
        elif word == "then" and waiting and waiting[-1] == "then":
            waiting[-1] = "else"
        elif word == "else" and waiting and waiting[-1] == "else":
            waiting.pop()
    return waiting[-1] if waiting else None


def _strip_strings(text: str) -> str:
    return re.sub(r"\"[^\"\n]*\"|'[^'\n]*'", '""', text)


def _explain(e: UnexpectedInput, text: str) -> SyntaxProblem:
    if isinstance(e, UnexpectedCharacters):
        ch = text[e.pos_in_stream]
        if ch == "=":
            return SyntaxProblem("'=' is not an operator here; use '==' to compare", e.pos_in_stream)
        if ch in "&|!":
            word = {"&": "and", "|": "or", "!": "not"}[ch]
            return SyntaxProblem(f"unexpected character '{ch}'; write '{word}'", e.pos_in_stream)
        if ch in "\"'":
            return SyntaxProblem("unterminated string", e.pos_in_stream)
        return SyntaxProblem(f"unexpected character '{ch}'", e.pos_in_stream)

    if isinstance(e, (UnexpectedToken, UnexpectedEOF)):
        tok = e.token if isinstance(e, UnexpectedToken) else Token("$END", "")
        expected = set(e.expected) if getattr(e, "expected", None) else set()
        at_end = tok.type == "$END"
        offset = len(text.rstrip()) if at_end else tok.start_pos
        length = 1 if at_end else max(1, len(tok))
        prev = text[:offset].rstrip()

        if tok.type == "COMP_OP" and "COMP_OP" not in expected:
            return SyntaxProblem("comparisons cannot be chained; join them with 'and', or use "
                                 "'x between a and b'", offset, length)
        if tok.type == "EQUAL":
            return SyntaxProblem("'=' is not an operator here; use '==' to compare", offset)
        if "MINUS" in expected and expected <= {"MINUS"}:
            return SyntaxProblem("a lag looks back: write x[-n], e.g. x[-1] for the previous period",
                                 offset, length)
        if expected == {"RPAR"} or expected == {"RSQB"} or (
                at_end and expected & {"RPAR", "RSQB", "COMMA"}):
            opened = _unclosed(text, offset)
            if opened is not None:
                bracket, where = opened
                close = ")" if bracket == "(" else "]"
                return SyntaxProblem(f"'{bracket}' is never closed: expected '{close}' before "
                                     f"{_token_text(tok)}", where)
        if expected == {"LSQB"}:
            return SyntaxProblem("'in' takes a list in brackets, e.g. x in [1, 2]", offset, length)
        opened_if = _open_if(text, offset)
        if opened_if == "else" and "ELSE" in expected:
            return SyntaxProblem(f"'if … then …' needs an 'else' branch, found {_token_text(tok)}",
                                 offset, length)
        if opened_if == "then" and "THEN" in expected:
            return SyntaxProblem(f"expected 'then' after the condition of 'if', found "
                                 f"{_token_text(tok)}", offset, length)
        if tok.type in ("RPAR", "RSQB") and _unclosed(text, offset) is None:
            return SyntaxProblem(f"unmatched '{tok}'", offset)
        operator_expected = bool(expected & {"COMP_OP", "ADD_OP", "MUL_OP", "AND", "OR"})
        if operator_expected and tok.type in _OPERAND_TERMINALS:
            return SyntaxProblem(f"unexpected {_token_text(tok)}: an operator ('and', 'or', a "
                                 f"comparison, ...) is missing before it", offset, length)
        if expected & _OPERAND_TERMINALS and not operator_expected:
            if at_end:
                m = re.search(r"(\w+|\S)\s*$", prev)
                last = m.group(1) if m else ""
                return SyntaxProblem(f"the expression ends after '{last}'; expected an operand",
                                     max(0, len(prev) - len(last)), max(1, len(last)))
            return SyntaxProblem(f"expected an operand, found {_token_text(tok)}", offset, length)
        if at_end:
            names = " or ".join(sorted(_readable(t) for t in expected))
            return SyntaxProblem(f"the expression ends too early; expected {names}", offset)
        return SyntaxProblem(f"unexpected {_token_text(tok)}", offset, length)

    return SyntaxProblem(str(e).splitlines()[0], getattr(e, "pos_in_stream", 0) or 0)
