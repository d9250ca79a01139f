"""The expression parser: precedence, associativity, every node type, spans and positions, and
the syntax error messages (word for word, at the right offset)."""

from __future__ import annotations

import pytest

from rulesengine.diagnostics import Pos
from rulesengine.lang import ast, parser
from rulesengine.check.checker import canonical


def on_one_line(offset: int) -> tuple[int, int]:
    """The locator of an expression written alone on line 1 from column 1."""
    return 1, offset + 1


def parse(text: str) -> ast.Node:
    return parser.parse(text, on_one_line, parser.NodeIds())


def problem(text: str) -> parser.SyntaxProblem:
    with pytest.raises(parser.SyntaxProblem) as info:
        parse(text)
    return info.value


# --- precedence and associativity -----------------------------------------------------------

@pytest.mark.parametrize("text, tree", [
    ("a or b and c", "(a or (b and c))"),
    ("a and b or c", "((a and b) or c)"),
    ("not a and b", "((not a) and b)"),
    ("not a < b", "(not (a < b))"),
    ("not not a", "(not (not a))"),
    ("a < b and c >= d", "((a < b) and (c >= d))"),
    ("a + b * c", "(a + (b * c))"),
    ("a * b + c", "((a * b) + c)"),
    ("-a * b", "((- a) * b)"),
    ("- -a", "(- (- a))"),
    ("-x[-1]", "(- x[-1])"),
    ("a + 1 < b * 2", "((a + 1.0) < (b * 2.0))"),
    ("(a or b) and c", "((a or b) and c)"),
    ("if a then b else c or d", "(if a then b else (c or d))"),
    ("if a then if b then c else d else e", "(if a then (if b then c else d) else e)"),
    ("x between 1 and 2 and y", "((x between 1.0 and 2.0) and y)"),
    ("x between a + 1 and b * 2", "(x between (a + 1.0) and (b * 2.0))"),
    ("x in [1, 2] or y", "((x in [1.0, 2.0]) or y)"),
    ("x + 1 not in [a, b]", "((x + 1.0) not in [a, b])"),
    ("x[-1][-2] + 1", "(x[-1][-2] + 1.0)"),
])
def test_precedence(text, tree):
    assert canonical(parse(text)) == tree


@pytest.mark.parametrize("text, tree", [
    ("a - b - c", "((a - b) - c)"),
    ("a / b / c", "((a / b) / c)"),
    ("a - b + c", "((a - b) + c)"),
    ("a or b or c", "((a or b) or c)"),
    ("a and b and c", "((a and b) and c)"),
])
def test_binary_operators_associate_to_the_left(text, tree):
    assert canonical(parse(text)) == tree


# --- every node type ------------------------------------------------------------------------

@pytest.mark.parametrize("text, value, unit", [
    ("95", 95.0, "number"),
    ("0.5", 0.5, "number"),
    ("1e3", 1000.0, "number"),
    ("2.5E-1", 0.25, "number"),
    ("95%", 95.0, "percent"),
    ("12.5%", 12.5, "percent"),
    ("£4", 4.0, "money"),
    ("£3k", 3000.0, "money"),
    ("£1.5m", 1_500_000.0, "money"),
    ("£2bn", 2_000_000_000.0, "money"),
])
def test_number_literals_carry_their_unit(text, value, unit):
    node = parse(text)
    assert isinstance(node, ast.Number)
    assert (node.value, node.unit) == (value, unit)


def test_negative_literals_are_unary_minus():
    node = parse("-5%")
    assert isinstance(node, ast.Unary) and node.op == "-"
    assert isinstance(node.operand, ast.Number) and node.operand.unit == "percent"


def test_node_types():
    assert parse("true") == ast.Bool(parse("true").nid, Pos(1, 1, 5), (0, 4), True)
    assert isinstance(parse("false"), ast.Bool) and parse("false").value is False
    s = parse("'acute'")
    assert isinstance(s, ast.String) and s.value == "acute"
    assert parse('"mental health"').value == "mental health"
    n = parse("ae_4hr_pct")
    assert isinstance(n, ast.Name) and n.name == "ae_4hr_pct"
    a = parse("parent.deficit")
    assert isinstance(a, ast.Attribute) and (a.obj, a.name) == ("parent", "deficit")
    lag = parse("x[-3]")
    assert isinstance(lag, ast.Lag) and lag.n == 3 and lag.operand.name == "x"
    i = parse("x not in [1, 2]")
    assert isinstance(i, ast.In) and i.negated and [it.value for it in i.items] == [1.0, 2.0]
    assert parse("x in []").items == ()
    b = parse("x between 1 and 2")
    assert isinstance(b, ast.Between) and (b.low.value, b.high.value) == (1.0, 2.0)
    f = parse("if a then 1 else 2")
    assert isinstance(f, ast.If) and f.cond.name == "a" and f.else_.value == 2.0


def test_calls_with_positional_and_keyword_arguments():
    c = parse("pct_rank(ae_4hr_pct, by=region, better=lower)")
    assert isinstance(c, ast.Call) and c.func == "pct_rank"
    assert [a.name for a in c.args] == ["ae_4hr_pct"]
    assert [(k.name, k.value.name) for k in c.kwargs] == [("by", "region"), ("better", "lower")]
    assert c.kwarg("by").pos == Pos(1, 22, 24)
    assert c.kwarg("standard") is None
    assert c.func_pos == Pos(1, 1)
    assert parse("f()").args == ()


def test_node_ids_are_unique_and_walk_visits_every_node():
    ids = parser.NodeIds()
    a = parser.parse("if x[-1] > 2 then f(y, by=type) else -z", on_one_line, ids)
    b = parser.parse("w", on_one_line, ids)
    nodes = list(ast.walk(a))
    assert len({n.nid for n in nodes} | {b.nid}) == len(nodes) + 1
    assert {type(n).__name__ for n in nodes} >= {"If", "Binary", "Lag", "Call", "Unary", "Name",
                                                   "Number"}


# --- spans and positions --------------------------------------------------------------------

def test_every_node_span_is_its_own_source_text():
    text = "not (ae < 95% or f(x[-1], by=type)) and y between -1 and £2m"
    for node in ast.walk(parse(text)):
        start, end = node.span
        assert node.pos.col == start + 1
        if node.pos.end_col is not None:
            assert node.pos.end_col == end + 1
        source = text[start:end]
        assert source.strip() == source and source


def test_spans_of_bracketed_expressions_include_the_brackets():
    text = "(a or b) and c"
    node = parse(text)
    assert text[slice(*node.left.span)] == "(a or b)"
    assert node.left.pos == Pos(1, 1, 9)
    assert text[slice(*node.span)] == text


def test_positions_come_from_the_locator():
    # An expression on line 7 of a file, starting at column 11, continuing on line 8.
    text = "a and\nbb"
    starts = {0: (7, 11), 1: (7, 12), 2: (7, 13), 3: (7, 14), 4: (7, 15), 5: (7, 16),
              6: (8, 5), 7: (8, 6)}
    node = parser.parse(text, lambda o: starts.get(o, (8, 5 + o - 6)), parser.NodeIds())
    assert node.pos == Pos(7, 11)            # spans two lines: no end column
    assert node.right.pos == Pos(8, 5, 7)


# --- syntax errors --------------------------------------------------------------------------

KEYWORD_HINT = ("'and', 'or', 'not', 'in', 'between', 'if', 'then', 'else', 'true' and 'false' "
                "are keywords and cannot be used as names")


@pytest.mark.parametrize("text, message, offset, length, hint", [
    # unclosed, unmatched and mismatched brackets
    ("(a or b", "'(' is never closed: expected ')' before the end of the expression", 0, 1,
     None),
    ("f(a, b", "'(' is never closed: expected ')' before the end of the expression", 1, 1, None),
    ("x in [1, 2", "'[' is never closed: expected ']' before the end of the expression", 5, 1,
     None),
    ("a or b)", "unmatched ')'", 6, 1, None),
    ("(a or b]", "mismatched brackets: ']' cannot close '('; expected ')'", 7, 1, None),
    ("x in [1, 2)", "mismatched brackets: ')' cannot close '['; expected ']'", 10, 1, None),
    # dangling operators and missing operands
    ("a and", "the expression ends after 'and'; expected an operand", 2, 3, None),
    ("a <", "the expression ends after '<'; expected an operand", 2, 1, None),
    ("a + * 3", "expected an operand, found '*'", 4, 1, None),
    ("not", "the expression ends after 'not'; expected an operand", 0, 3, None),
    # comparisons
    ("1 < a < 3", "comparisons cannot be chained; join them with 'and', or use "
                  "'x between a and b'", 6, 1, None),
    ("a = 3", "'=' is not an operator here; use '==' to compare", 2, 1, None),
    ("a => 3", "'=>' is not an operator; write '>=' for 'at least'", 2, 2, None),
    ("a =< 3", "'=<' is not an operator; write '<=' for 'at most'", 2, 2, None),
    ("a === 3", "'===' is not an operator; write '==' to compare", 2, 3, None),
    ("a <> 3", "'<>' is not an operator; write '!=' for 'not equal'", 2, 2, None),
    ("a >< 3", "'><' is not an operator", 2, 2, "the comparisons are ==, !=, <, <=, > and >="),
    # if / then / else, between, in
    ("if a then b", "'if … then …' needs an 'else' branch, found the end of the expression", 11,
     1, None),
    ("if a b else c", "expected 'then' after the condition of 'if', found 'b'", 5, 1, None),
    ("a and if b then c else d", "'if … then … else …' inside a larger expression must be in "
                                 "brackets", 6, 2, "write (if cond then a else b)"),
    ("x between 1 or 2", "'between' needs 'and': write x between low and high; found 'or'",
     12, 2, None),
    ("x in 3", "'in' takes a list in brackets, e.g. x in [1, 2]", 5, 1, None),
    # lags
    ("x[1]", "a lag looks back: write x[-n], e.g. x[-1] for the previous period", 2, 1, None),
    ("x[-0]", "a lag looks back at least one period: write x[-1], x[-2], ...", 2, 2, None),
    # a missing operator between operands
    ("a b", "unexpected 'b': an operator ('and', 'or', a comparison, ...) is missing before it",
     2, 1, None),
    ("a < 3 f(x)", "unexpected 'f': an operator ('and', 'or', a comparison, ...) is missing "
                   "before it", 6, 1, None),
    # characters and strings
    ("a && b", "unexpected character '&'; write 'and'", 2, 1, None),
    ("a || b", "unexpected character '|'; write 'or'", 2, 1, None),
    ("!a", "unexpected character '!'; write 'not'", 0, 1, None),
    ("a ¬ b", "unexpected character '¬'", 2, 1, None),
    ("type == 'acute", "unterminated string", 8, 1, "end the string with ' on the same line"),
    ("a < .5", "a number must start with a digit", 4, 2, "write 0.5"),
    ("a < 92 %", "'%' must follow its number directly", 7, 1, "write 92%"),
    ("a < 9e999", "number too large: 9e999", 4, 5, None),
    ("a < .²", "expected an operand, found '.'", 4, 1, None),
    ("a < ²%", "unexpected character '²'", 4, 1, None),
    ("a \u2028 b", "unexpected character U+2028", 2, 1, None),
    ("a \x00 b", "unexpected character U+0000", 2, 1, None),
    # empty expressions and keywords as names
    ("", "empty expression", 0, 1, None),
    ("  \n ", "empty expression", 0, 1, None),
    ("in > 3", "expected an operand, found 'in'", 0, 2, KEYWORD_HINT),
    ("a and then", "expected an operand, found 'then'", 6, 4, KEYWORD_HINT),
    ("if < 3", "expected an operand, found '<'", 3, 1, KEYWORD_HINT),
    ("a and or b", "expected an operand, found 'or'", 6, 2, None),
    # arguments
    ("f(by=1, x)", "a positional argument cannot follow a keyword argument", 8, 1, None),
    ("f(x, by=a, by=b)", "keyword argument 'by' given twice", 14, 1, None),
])
def test_syntax_error_messages(text, message, offset, length, hint):
    p = problem(text)
    assert (p.message, p.offset, p.length, p.hint) == (message, offset, length, hint)


def test_parsing_after_an_error_is_unaffected():
    problem("(a or")
    assert canonical(parse("a or b")) == "(a or b)"


# --- limits ---------------------------------------------------------------------------------

def test_expression_length_limit():
    text = "a or " * (parser.MAX_EXPRESSION_CHARS // 5) + "b"
    p = problem(text)
    assert p.message == (f"expression too long ({len(text):,} characters; the limit is "
                         f"{parser.MAX_EXPRESSION_CHARS:,})")
    assert p.hint == "split it into named expressions under 'define'"


def test_long_chains_of_one_operator():
    ok = " or ".join(["a"] * parser.MAX_DEPTH)
    assert canonical(parse(ok)).count(" or ") == parser.MAX_DEPTH - 1
    p = problem(" + ".join(["a"] * (parser.MAX_DEPTH + 1)))
    assert p.message == f"more than {parser.MAX_DEPTH} terms joined by '+'"
    assert p.hint == "split them into named expressions under 'define'"


@pytest.mark.parametrize("build", [
    lambda n: "not " * n + "a",
    lambda n: "-" * n + "a",
    lambda n: "a" + "[-1]" * n,
    lambda n: "if a then b else " * n + "c",
    lambda n: "abs(" * n + "a" + ")" * n,
])
def test_node_depth_limit(build):
    assert parse(build(parser.MAX_DEPTH - 2)) is not None
    p = problem(build(parser.MAX_DEPTH + 5))
    assert p.message.startswith(f"expression nested too deeply (more than {parser.MAX_DEPTH}")


def test_bracket_depth_limit_counts_brackets_that_make_no_node():
    depth = parser.MAX_DEPTH
    assert isinstance(parse("(" * depth + "a" + ")" * depth), ast.Name)
    p = problem("(" * (depth + 1) + "a" + ")" * (depth + 1))
    assert p.message == (f"expression nested too deeply (more than {depth} levels of "
                         "brackets)")
    assert p.offset == depth
    # brackets inside strings do not count
    assert parse("x in ['" + "(" * 100 + "']") is not None


# --- digits and long numbers ----------------------------------------------------------------

@pytest.mark.parametrize("text, offset", [
    ("a > \u0663\u0663", 4),       # Arabic-Indic digits: Python's \d and float() take them
    ("a > \uff11", 4), ("x[-\u0661] > 1", 3), ("a > 3\u0663", 5),
    ("a < \u0665%", 4), ("a < £\u0665", 5),
])
def test_only_the_digits_0_to_9_make_numbers(text, offset):
    p = problem(text)
    assert p.offset == offset
    assert p.message.endswith("is not one of the digits 0-9; numbers in an expression are "
                              "written with 0-9 only")


@pytest.mark.parametrize("text", [
    "a > " + "9" * 5000, "a > 1" + "0" * 400 + "%", "a > £" + "1" * 200,
    "x[-" + "9" * 5000 + "] > 1", "x[-" + "0" * 5000 + "1] > 1",
])
def test_a_number_with_thousands_of_digits_is_refused_by_its_length(text):
    p = problem(text)
    assert p.message.startswith("number too long (") and "the limit is 100)" in p.message
    assert "999999999999" not in p.message


def test_a_lag_of_many_digits_within_the_length_limit_is_refused_by_its_size():
    assert problem("x[-" + "9" * 90 + "] > 1").message == "a lag looks back at most 600 periods"


def test_a_number_too_large_is_shown_cut_down():
    p = problem("a > " + "9" * 60 + "e999")
    assert p.message.startswith("number too large: 999999999999…") and len(p.message) < 80
