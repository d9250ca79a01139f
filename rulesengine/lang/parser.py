"""Parse one embedded expression into AST nodes located in the policy file.

Lark's LALR parser builds a parse tree without recursion; the tree is then turned into AST
nodes bottom-up over an explicit stack (in the order the parser reduced them), so a
10,000-deep expression is refused by the depth limit, not by Python's stack. Each parse has
its own builder: nothing is shared between parses but the immutable Lark parser, so threads
may parse at once. Syntax errors become diagnostics written for policy authors.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib.resources import files
from typing import Callable

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from ..diagnostics import MAX_NUMBER_CHARS, Pos, elide
from . import ast
from .builtins import MAX_LOOKBACK

# Refusals in bounded time and memory; both are far beyond any real policy.
MAX_EXPRESSION_CHARS = 20_000
MAX_DEPTH = 64

Locate = Callable[[int], tuple[int, int]]   # offset in the expression -> (line, col) in the file


@dataclass(eq=False)   # not frozen: Python sets __traceback__ and __context__ on exceptions
class SyntaxProblem(Exception):
    """A syntax error at an offset in the expression text; the caller turns it into a diagnostic."""

    message: str
    offset: int
    length: int = 1
    hint: str | None = None


@lru_cache(maxsize=1)
def _lark() -> Lark:
    grammar = files("rulesengine.lang").joinpath("grammar.lark").read_text(encoding="utf-8")
    # keep_all_tokens: keywords and brackets stay in the children, so each builder method can
    # compute its node's span from its first and last child.
    return Lark(grammar, parser="lalr", lexer="contextual", keep_all_tokens=True,
                maybe_placeholders=True, cache=False)


class NodeIds:
    """Hands out node ids unique within one policy."""

    def __init__(self, start: int = 1) -> None:
        self._counter = itertools.count(start)

    def next(self) -> int:
        return next(self._counter)


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
            if isinstance(node, ast.Binary) and isinstance(node.left, ast.Binary) and \
                    node.left.op == node.op:
                # A flat chain `a or b or ...` nests to the left, one level per term.
                raise SyntaxProblem(f"more than {MAX_DEPTH} terms joined by '{node.op}'", start,
                                    hint="split them into named expressions under 'define'")
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


def _digits(tok: Token) -> Token:
    """Refuse a number written with absurdly many characters before converting it (Python's
    int() refuses 4,300 digits; no figure in a policy needs a hundred)."""
    if len(tok) > MAX_NUMBER_CHARS:
        raise SyntaxProblem(f"number too long ({len(tok):,} characters; the limit is "
                            f"{MAX_NUMBER_CHARS})", tok.start_pos, len(tok))
    return tok


def _finite(value: float, tok: Token) -> float:
    if value != value or value in (float("inf"), float("-inf")):
        raise SyntaxProblem(f"number too large: {elide(tok)}", tok.start_pos, len(tok))
    return value


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


class _Builder:
    """Builds the AST nodes of one parse (one method per grammar alternative)."""

    def __init__(self, context: _Context) -> None:
        self.context = context

    def _c(self) -> _Context:
        return self.context

    def build(self, tree: Tree):
        """The AST of a parse tree, children before parents and left to right, as the parser
        reduced them (so node ids are numbered as they always were). A syntax error anywhere
        in the text is found before any problem the builder finds (a lag too far, say)."""
        done: list = []
        stack: list[tuple[object, bool]] = [(tree, False)]
        while stack:
            item, ready = stack.pop()
            if not isinstance(item, Tree):
                done.append(item)
            elif ready:
                k = len(item.children)
                args = done[len(done) - k:] if k else []
                del done[len(done) - k:]
                done.append(getattr(self, item.data)(args))
            else:
                stack.append((item, True))
                stack.extend((child, False) for child in reversed(item.children))
        return done[0]

    def number(self, children):
        (tok,) = children
        return self._c().make(ast.Number, tok.start_pos, tok.end_pos,
                              _finite(float(_digits(tok)), tok), "number")

    def percent(self, children):
        (tok,) = children
        return self._c().make(ast.Number, tok.start_pos, tok.end_pos,
                              _finite(float(_digits(tok)[:-1]), tok), "percent")

    def money(self, children):
        (tok,) = children
        text = _digits(tok)[1:]
        scale = 1.0
        for suffix, factor in (("bn", 1e9), ("m", 1e6), ("k", 1e3)):
            if text.endswith(suffix):
                text, scale = text[: -len(suffix)], factor
                break
        return self._c().make(ast.Number, tok.start_pos, tok.end_pos,
                              _finite(float(text) * scale, tok), "money")

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
        line, col = self._c().locate(key.start_pos)
        end_line, end_col = self._c().locate(key.end_pos - 1)
        return ast.Keyword(str(key), value, Pos(line, col, end_col + 1 if end_line == line
                                                else None))

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
        digits = _digits(n).lstrip("0") or "0"    # int() of 4,300 digits raises, so compare lengths first
        periods = int(digits) if len(digits) <= len(str(MAX_LOOKBACK)) else MAX_LOOKBACK + 1
        if periods < 1:
            raise SyntaxProblem("a lag looks back at least one period: write x[-1], x[-2], ...",
                                n.start_pos - 1, len(n) + 1)
        if periods > MAX_LOOKBACK:
            raise SyntaxProblem(f"a lag looks back at most {MAX_LOOKBACK} periods",
                                n.start_pos - 1, len(n) + 1)
        return self._c().make(ast.Lag, operand.span[0], rsqb.end_pos, operand, periods)


def parse(text: str, locate: Locate, ids: NodeIds) -> ast.Node:
    """Parse `text`; raise SyntaxProblem (offset-based) on any error."""
    if len(text) > MAX_EXPRESSION_CHARS:
        raise SyntaxProblem(f"expression too long ({len(text):,} characters; the limit is "
                            f"{MAX_EXPRESSION_CHARS:,})", 0,
                            hint="split it into named expressions under 'define'")
    if not text.strip():
        raise SyntaxProblem("empty expression", 0)
    _check_bracket_depth(text)
    try:
        tree = _parse_tree(text)
    except UnexpectedInput as e:
        raise _explain(e, text) from None
    return _Builder(_Context(text, locate, ids)).build(tree)


@lru_cache(maxsize=4096)
def _parse_tree(text: str) -> Tree:
    """Lark's parse tree of `text`, remembered: a language server re-checks a policy on every
    keystroke, when all its expressions but one are the text they were. The tree only says
    where in `text` each token is, so one tree serves wherever the text appears (positions
    and node ids are the builder's, made fresh on every parse), and nothing changes it.
    A failing parse raises, and is not remembered."""
    return _lark().parse(text)


def _check_bracket_depth(text: str) -> None:
    """Refuse deep bracket nesting before parsing: parentheses make no AST node of their own,
    so the node depth limit alone would let `((((...x...))))` through."""
    depth = 0
    quote = None
    for i, ch in enumerate(text):
        if quote:
            if ch == quote or ch == "\n":
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch in "([":
            depth += 1
            if depth > MAX_DEPTH:
                raise SyntaxProblem(f"expression nested too deeply (more than {MAX_DEPTH} "
                                    "levels of brackets)", i,
                                    hint="split it into named expressions under 'define'")
        elif ch in ")]" and depth:
            depth -= 1


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


_KEYWORDS = ("and", "or", "not", "in", "between", "if", "then", "else", "true", "false")
_KEYWORD_HINT = ("'and', 'or', 'not', 'in', 'between', 'if', 'then', 'else', 'true' and 'false' "
                 "are keywords and cannot be used as names")


def _open_between(text: str, upto: int) -> bool:
    """Whether a `between` before `upto` still waits for its `and`."""
    words = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", _strip_strings(text[:upto]))
    if "between" not in words:
        return False
    last = len(words) - 1 - words[::-1].index("between")
    return "and" not in words[last + 1:]


def _word_before(text: str, offset: int) -> str:
    m = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\s*$", text[:offset])
    return m.group(1) if m else ""


def _leading_dot(text: str, i: int) -> SyntaxProblem:
    digits = re.match(r"\.[0-9]+", text[i:]).group(0)
    return SyntaxProblem("a number must start with a digit", i, len(digits),
                         hint=f"write 0{digits}")


def _equals(text: str, i: int) -> SyntaxProblem:
    """A lone '=' (or '=>', '=<', '===') where a comparison was meant."""
    if text[i:i + 2] == "=>":
        return SyntaxProblem("'=>' is not an operator; write '>=' for 'at least'", i, 2)
    if text[i:i + 2] == "=<":
        return SyntaxProblem("'=<' is not an operator; write '<=' for 'at most'", i, 2)
    if i >= 2 and text[i - 2:i] == "==":
        return SyntaxProblem("'===' is not an operator; write '==' to compare", i - 2, 3)
    return SyntaxProblem("'=' is not an operator here; use '==' to compare", i)


def _explain(e: UnexpectedInput, text: str) -> SyntaxProblem:
    if isinstance(e, UnexpectedCharacters):
        i = e.pos_in_stream
        ch = text[i]
        if ch == "=":
            return _equals(text, i)
        if ch in "&|!":
            word = {"&": "and", "|": "or", "!": "not"}[ch]
            return SyntaxProblem(f"unexpected character '{ch}'; write '{word}'", i)
        if ch in "\"'":
            return SyntaxProblem("unterminated string", i,
                                 hint=f"end the string with {ch} on the same line")
        if ch == "." and re.match(r"\.[0-9]", text[i:]):
            return _leading_dot(text, i)
        number = re.search(r"[0-9][0-9.]*$", text[:i].rstrip()) if ch == "%" else None
        if number:
            return SyntaxProblem("'%' must follow its number directly", i,
                                 hint=f"write {number.group(0)}%")
        if ch == "£" and text[i + 1:i + 2] and unicodedata.category(text[i + 1]) == "Nd":
            i, ch = i + 1, text[i + 1]       # the amount's first digit is the trouble
        shown = f"'{ch}'" if ch.isprintable() else f"U+{ord(ch):04X}"
        if unicodedata.category(ch) == "Nd":
            # '٣' is a digit to Python's \d and float(), never to regime
            return SyntaxProblem(f"{shown} is not one of the digits 0-9; numbers in an "
                                 "expression are written with 0-9 only", i)
        return SyntaxProblem(f"unexpected character {shown}", i)

    if isinstance(e, (UnexpectedToken, UnexpectedEOF)):
        tok = e.token if isinstance(e, UnexpectedToken) else Token("$END", "")
        expected = set(e.expected) if getattr(e, "expected", None) else set()
        at_end = tok.type == "$END"
        offset = len(text.rstrip()) if at_end else tok.start_pos
        length = 1 if at_end else max(1, len(tok))
        prev = text[:offset].rstrip()
        operator_expected = bool(expected & {"COMP_OP", "ADD_OP", "MUL_OP", "AND", "OR"})
        operand_expected = bool(expected & _OPERAND_TERMINALS) and not operator_expected

        if tok.type == "EQUAL":
            return _equals(text, offset)
        if tok.type == "DOT" and re.match(r"\.[0-9]", text[offset:]):
            return _leading_dot(text, offset)
        if tok.type == "COMP_OP" and operand_expected and offset > 0 and \
                text[offset - 1] in "<>!=":
            # two comparison signs run together: `<>`, `><`, `<<`, ...
            op = text[offset - 1] + str(tok)
            if op == "<>":
                return SyntaxProblem("'<>' is not an operator; write '!=' for 'not equal'",
                                     offset - 1, 2)
            return SyntaxProblem(f"'{op}' is not an operator", offset - 1, len(op),
                                 hint="the comparisons are ==, !=, <, <=, > and >=")
        if tok.type == "COMP_OP" and operator_expected and "COMP_OP" not in expected:
            return SyntaxProblem("comparisons cannot be chained; join them with 'and', or use "
                                 "'x between a and b'", offset, length)
        if "MINUS" in expected and expected <= {"MINUS"}:
            return SyntaxProblem("a lag looks back: write x[-n], e.g. x[-1] for the previous period",
                                 offset, length)
        opened = _unclosed(text, offset)
        if tok.type in ("RPAR", "RSQB") and opened is not None and \
                {"(": "RPAR", "[": "RSQB"}[opened[0]] != tok.type:
            close = ")" if opened[0] == "(" else "]"
            return SyntaxProblem(f"mismatched brackets: '{tok}' cannot close '{opened[0]}'; "
                                 f"expected '{close}'", offset)
        if expected == {"RPAR"} or expected == {"RSQB"} or (
                at_end and expected & {"RPAR", "RSQB", "COMMA"}):
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
        if "AND" in expected and tok.type != "AND" and _open_between(text, offset):
            return SyntaxProblem(f"'between' needs 'and': write x between low and high; found "
                                 f"{_token_text(tok)}", offset, length)
        if tok.type in ("RPAR", "RSQB") and opened is None:
            return SyntaxProblem(f"unmatched '{tok}'", offset)
        if operator_expected and tok.type in _OPERAND_TERMINALS:
            hint = None
            if prev[-1:] in "'\"" and tok.type == "NAME":
                hint = ("a string runs to the next quote mark of its kind: is a closing quote "
                        "missing earlier?")
            return SyntaxProblem(f"unexpected {_token_text(tok)}: an operator ('and', 'or', a "
                                 f"comparison, ...) is missing before it", offset, length,
                                 hint=hint)
        if expected & _OPERAND_TERMINALS and not operator_expected:
            if at_end:
                m = re.search(r"(\w+|\S)\s*$", prev)
                last = m.group(1) if m else ""
                before = prev[:len(prev) - len(last)].rstrip()
                hint = None
                if last in _KEYWORDS and last != "not" and (
                        not before or before[-1] in "<>=!+-*/(,["
                        or _word_before(before, len(before)) in _KEYWORDS):
                    hint = _KEYWORD_HINT  # `x and in`: the keyword was meant as a name
                return SyntaxProblem(f"the expression ends after '{last}'; expected an operand",
                                     max(0, len(prev) - len(last)), max(1, len(last)), hint=hint)
            if tok.type == "IF":
                return SyntaxProblem("'if … then … else …' inside a larger expression must be in "
                                     "brackets", offset, length,
                                     hint="write (if cond then a else b)")
            hint = None
            after = text[tok.end_pos:].lstrip()[:1]
            if str(tok) in _KEYWORDS and (not after or after in "<>=!+-*/),]"):
                hint = _KEYWORD_HINT      # a keyword where a name was meant: `in > 3`
            elif _word_before(text, offset) == "if" and tok.type in (
                    "COMP_OP", "MUL_OP", "RPAR", "RSQB", "COMMA"):
                hint = _KEYWORD_HINT      # `if < 3`: 'if' was meant as a name
            return SyntaxProblem(f"expected an operand, found {_token_text(tok)}", offset, length,
                                 hint=hint)
        if at_end:
            names = " or ".join(sorted(_readable(t) for t in expected))
            return SyntaxProblem(f"the expression ends too early; expected {names}", offset)
        return SyntaxProblem(f"unexpected {_token_text(tok)}", offset, length)

    return SyntaxProblem(str(e).splitlines()[0], getattr(e, "pos_in_stream", 0) or 0)
