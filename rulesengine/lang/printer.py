"""Print an expression AST back as source text: the canonical spelling `regime fmt` writes.

Spacing is fixed (one space around binary operators, none inside brackets, `, ` between
arguments) and parentheses appear only where the grammar needs them to rebuild the same tree,
so `print_expr(parse(print_expr(t)))` is `print_expr(t)` and the tree is unchanged.
`layout_expr` breaks a long expression over lines: the operands of a long `and`/`or` chain
one per line under each other, the operator leading; a long call's arguments one per line
under the first; a long `if` as `if`/`then`/`else` lines.
"""

from __future__ import annotations

from decimal import Decimal

from . import ast

# Binding strength, loosest first, as in grammar.lark.
IF, OR, AND, NOT, COMPARE, SUM, PRODUCT, NEG, POSTFIX, ATOM = range(10)

_BINARY_LEVEL = {"or": OR, "and": AND, "+": SUM, "-": SUM, "*": PRODUCT, "/": PRODUCT,
                 "==": COMPARE, "!=": COMPARE, "<": COMPARE, "<=": COMPARE, ">": COMPARE,
                 ">=": COMPARE}


def level(node: ast.Node) -> int:
    """How tightly the node's own syntax binds (its grammar level)."""
    if isinstance(node, ast.If):
        return IF
    if isinstance(node, ast.Binary):
        return _BINARY_LEVEL[node.op]
    if isinstance(node, ast.Unary):
        return NOT if node.op == "not" else NEG
    if isinstance(node, (ast.In, ast.Between)):
        return COMPARE
    if isinstance(node, ast.Lag):
        return POSTFIX
    return ATOM


def _plain_decimal(value: float) -> str:
    """The shortest decimal that reads back as `value`, without an exponent."""
    text = format(Decimal(repr(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def number_text(node: ast.Number) -> str:
    """A number literal that the parser reads back as the same value and unit."""
    v = node.value
    if node.unit == "percent":
        return _plain_decimal(v) + "%"
    if node.unit == "money":
        best = "£" + _plain_decimal(v)
        for suffix, scale in (("bn", 1e9), ("m", 1e6), ("k", 1e3)):
            if abs(v) >= scale:
                digits = _plain_decimal(v / scale)
                if float(digits) * scale == v and len(digits) + len(suffix) + 1 < len(best):
                    best = f"£{digits}{suffix}"
                break
        return best
    text = repr(v)
    if text.endswith(".0"):
        text = text[:-2]
    if "e" in text or "E" in text:
        mantissa, exp = text.lower().split("e")
        text = f"{mantissa}e{exp}"
        if float(text) != v or len(_plain_decimal(v)) <= len(text):
            text = _plain_decimal(v)
    return text


def _string_text(value: str) -> str:
    return f"'{value}'" if '"' in value else f'"{value}"'


# Where brackets are written for readers though the grammar does not need them: around an
# `and` that is an operand of `or`, and around a comparison after `not`, the two places where
# precedence alone is often misread.
IN_OR, AFTER_NOT = "or", "not"


def _needs_brackets(node: ast.Node, at_least: int, place: str | None = None) -> bool:
    lv = level(node)
    return lv < at_least or (place == IN_OR and lv == AND) or (
        place == AFTER_NOT and lv == COMPARE)


def _wrap(node: ast.Node, text: str, at_least: int, place: str | None = None) -> str:
    return f"({text})" if _needs_brackets(node, at_least, place) else text


def print_expr(node: ast.Node) -> str:
    """The expression on one line, canonically spaced and bracketed."""
    return _Printer().text(node)


class _Printer:
    def text(self, n: ast.Node) -> str:
        # Recursion is bounded: the parser refuses trees deeper than its MAX_DEPTH.
        if isinstance(n, ast.Number):
            return number_text(n)
        if isinstance(n, ast.Bool):
            return "true" if n.value else "false"
        if isinstance(n, ast.String):
            return _string_text(n.value)
        if isinstance(n, ast.Name):
            return n.name
        if isinstance(n, ast.Attribute):
            return f"{n.obj}.{n.name}"
        if isinstance(n, ast.Unary):
            if n.op == "not":
                return "not " + self.sub(n.operand, NOT, AFTER_NOT)
            inner = self.sub(n.operand, NEG)
            # `- -x` and `--x` are avoided: a bracket keeps the two signs apart
            if inner.startswith("-"):
                inner = f"({inner})"
            return "-" + inner
        if isinstance(n, ast.Binary):
            lv = _BINARY_LEVEL[n.op]
            if lv == COMPARE:
                return f"{self.sub(n.left, SUM)} {n.op} {self.sub(n.right, SUM)}"
            place = IN_OR if n.op == "or" else None
            return f"{self.sub(n.left, lv, place)} {n.op} {self.sub(n.right, lv + 1, place)}"
        if isinstance(n, ast.In):
            items = ", ".join(self.text(i) for i in n.items)
            op = "not in" if n.negated else "in"
            return f"{self.sub(n.operand, SUM)} {op} [{items}]"
        if isinstance(n, ast.Between):
            return (f"{self.sub(n.operand, SUM)} between {self.sub(n.low, SUM)} and "
                    f"{self.sub(n.high, SUM)}")
        if isinstance(n, ast.If):
            return (f"if {self.sub(n.cond, OR)} then {self.sub(n.then, OR)} else "
                    f"{self.text(n.else_)}")
        if isinstance(n, ast.Lag):
            return f"{self.sub(n.operand, POSTFIX)}[-{n.n}]"
        if isinstance(n, ast.Call):
            return f"{n.func}({', '.join(self.arguments(n))})"
        raise TypeError(f"cannot print {type(n).__name__}")

    def arguments(self, n: ast.Call) -> list[str]:
        return [self.text(a) for a in n.args] + [f"{k.name}={self.text(k.value)}"
                                                  for k in n.kwargs]

    def sub(self, n: ast.Node, at_least: int, place: str | None = None) -> str:
        return _wrap(n, self.text(n), at_least, place)


# --- layout over several lines ------------------------------------------------------------------

def layout_expr(node: ast.Node, width: int = 96) -> list[str]:
    """The expression as lines no wider than `width` where it can be broken; the first line
    starts at column 0 and later lines carry their own indentation (never less than 0)."""
    return _Layout(width).lines(node, 0)


def _chain(node: ast.Binary) -> list[ast.Node]:
    """The operands of a left-nested chain of one operator (`a or b or c`)."""
    out: list[ast.Node] = []
    n: ast.Node = node
    while isinstance(n, ast.Binary) and n.op == node.op:
        out.append(n.right)
        n = n.left
    out.append(n)
    return out[::-1]


class _Layout:
    def __init__(self, width: int) -> None:
        self.width = width
        self.printer = _Printer()

    def lines(self, n: ast.Node, col: int, at_least: int = IF,
              place: str | None = None) -> list[str]:
        """Lines for `n` starting at column `col` (the first line without its indentation)."""
        flat = self.printer.sub(n, at_least, place)
        if col + len(flat) <= self.width:
            return [flat]
        if _needs_brackets(n, at_least, place):   # bracketed: lay out the inside one column further
            inner = self.lines(n, col + 1)
            inner[0] = "(" + inner[0]
            inner[-1] = inner[-1] + ")"
            return inner
        if isinstance(n, ast.Binary) and n.op in ("and", "or"):
            lv = _BINARY_LEVEL[n.op]
            operands = _chain(n)
            pad = " " * col
            place = IN_OR if n.op == "or" else None
            out = self.lines(operands[0], col, lv, place)
            for operand in operands[1:]:
                sub = self.lines(operand, col + len(n.op) + 1, lv + 1, place)
                out.append(f"{pad}{n.op} {sub[0]}")
                out.extend(sub[1:])
            return out
        if isinstance(n, ast.Call) and (n.args or n.kwargs):
            start = col + len(n.func) + 1
            pad = " " * start
            parts = [(None, a) for a in n.args] + [(k.name, k.value) for k in n.kwargs]
            out: list[str] = []
            for k, (name, value) in enumerate(parts):
                prefix = f"{name}=" if name else ""
                sub = self.lines(value, start + len(prefix))
                sub[0] = prefix + sub[0]
                if k < len(parts) - 1:
                    sub[-1] += ","
                if k == 0:
                    sub[0] = f"{n.func}(" + sub[0]
                else:
                    sub[0] = pad + sub[0]
                out.extend(sub)
            out[-1] += ")"
            return out
        if isinstance(n, ast.If):
            pad = " " * col
            cond = self.lines(n.cond, col + 3, OR)
            then = self.lines(n.then, col + 5, OR)
            else_ = self.lines(n.else_, col + 5)
            return (["if " + cond[0]] + cond[1:] + [f"{pad}then {then[0]}"] + then[1:]
                    + [f"{pad}else {else_[0]}"] + else_[1:])
        if isinstance(n, ast.Unary) and n.op == "not":
            sub = self.lines(n.operand, col + 4, NOT, AFTER_NOT)
            return ["not " + sub[0]] + sub[1:]
        return [flat]
