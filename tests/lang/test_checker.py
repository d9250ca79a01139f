"""The checker: what names resolve to and in which order, the type and unit of every
expression, rank directions, structure errors and the lint warnings."""

from __future__ import annotations

from pathlib import Path

import pytest

from rulesengine.diagnostics import PolicyError
from rulesengine.lang import ast
from rulesengine.lang import types as T
from rulesengine.check.checker import CheckedPolicy, Ref, check
from rulesengine.policy.load import load_policy_text

HEAD = """\
policy: checker_test
entity: trust
period: quarter
levels:
  - {id: segment_1}
  - {id: segment_2}
  - {id: segment_3}
default: segment_2
scales:
  cqc: [outstanding, good, requires_improvement, inadequate]
  ofsted: [outstanding_school, inadequate_school]
params:
  bottom_quartile: 25
  drop: "10%"
  deficit_limit: "£2m"
  window: {value: 3, unit: quarters}
inputs:
  ae_4hr_pct: {type: percent, better: higher}
  rtt_18wk_pct: {type: percent, better: higher}
  deficit_gbp: {type: money, better: lower}
  shmi: {type: number, better: lower}
  beds: {type: number}
  complaints: {type: count, better: lower}
  cqc_overall: {type: rating, scale: cqc}
  licence_breach: {type: flag}
"""


def policy_text(defines: dict[str, str] | None = None, when: str = "licence_breach",
                extra: str = "") -> str:
    text = HEAD + extra
    if defines:
        text += "define:\n" + "".join(f"  {k}: {_quote(v)}\n" for k, v in defines.items())
    return text + f"rules:\n  - id: r1\n    level: segment_3\n    when: {_quote(when)}\n"


def _quote(expr: str) -> str:
    return "'" + expr.replace("'", "''") + "'"


def checked(text: str) -> CheckedPolicy:
    return check(load_policy_text(text, Path("checker_test.yaml"), dirs=[],
                                  name="checker_test.yaml"))


def errors(text: str) -> list[str]:
    with pytest.raises(PolicyError) as info:
        checked(text)
    return [d.message for d in info.value.diagnostics if d.severity == "error"]


def define_type(expr: str) -> str:
    c = checked(policy_text({"d": expr}, when="licence_breach or d == d"))
    return T.describe(c.type_of(c.policy.defines["d"].expr))


def refs_in(c: CheckedPolicy, node: ast.Node) -> dict[str, Ref]:
    out = {}
    for n in ast.walk(node):
        if isinstance(n, (ast.Name, ast.Attribute)) and c.ref(n) is not None:
            out[n.name if isinstance(n, ast.Name) else f"{n.obj}.{n.name}"] = c.ref(n)
    return out


# --- name resolution ------------------------------------------------------------------------

def test_what_each_kind_of_name_resolves_to():
    c = checked(policy_text(
        {"poor": "ae_4hr_pct < 76%"},
        when="poor and cqc_overall == good and type == 'acute' and pct_rank(shmi) <= "
             "bottom_quartile and previous(level) == segment_3 and parent.ae_4hr_pct < 90%"))
    refs = refs_in(c, c.policy.rules[0].when)
    assert refs["poor"] == Ref("define", "poor")
    assert refs["cqc_overall"] == Ref("input", "cqc_overall")
    assert refs["good"] == Ref("label", "good", 1)
    assert refs["type"] == Ref("attr", "type")
    assert refs["shmi"] == Ref("input", "shmi")
    assert refs["bottom_quartile"] == Ref("param", "bottom_quartile")
    assert refs["level"] == Ref("level_var", "level")
    assert refs["segment_3"] == Ref("level", "segment_3", 2)
    assert refs["parent.ae_4hr_pct"] == Ref("input", "ae_4hr_pct")


def test_a_bare_word_is_read_by_what_it_is_compared_with():
    # `good` is both a level id and a cqc label: a rating context reads a label, a level
    # context a level, and on its own it is the level.
    text = HEAD.replace("  - {id: segment_3}", "  - {id: segment_3}\n  - {id: good}") + """\
define:
  as_label: cqc_overall == good
  as_level: previous(level) == good
  in_list: cqc_overall in [good, inadequate]
rules:
  - id: r1
    level: segment_3
    when: as_label or as_level or in_list
  - id: r2
    level: good
    when: licence_breach
"""
    c = checked(text)
    d = c.policy.defines
    assert c.ref(d["as_label"].expr.right) == Ref("label", "good", 1)
    assert c.ref(d["as_level"].expr.right) == Ref("level", "good", 3)
    assert [c.ref(i) for i in d["in_list"].expr.items] == [Ref("label", "good", 1),
                                                            Ref("label", "inadequate", 3)]


def test_a_label_on_the_left_takes_its_scale_from_the_right():
    c = checked(policy_text(when="good >= cqc_overall"))
    assert c.ref(c.policy.rules[0].when.left) == Ref("label", "good", 1)


def test_a_label_of_one_scale_alone_is_a_rating_of_that_scale():
    assert define_type("inadequate_school") == "a rating on the 'ofsted' scale"


def test_parent_reads_inputs_defines_and_attributes_but_not_params():
    assert errors(policy_text(when="parent.bottom_quartile > 1")) == [
        "unknown name 'parent.bottom_quartile'"]
    assert errors(policy_text(when="parent.deficit > £1m")) == [
        "unknown name 'parent.deficit'; did you mean 'deficit_gbp'?"]
    assert errors(policy_text(when="region.x > 1")) == [
        "'region.x': only 'parent.' can be followed by a name"]


def test_unknown_names_suggest_from_every_namespace():
    assert errors(policy_text(when="licence_breech")) == [
        "unknown name 'licence_breech'; did you mean 'licence_breach'?"]
    assert errors(policy_text(when="bottom_quartle > 1")) == [
        "unknown name 'bottom_quartle'; did you mean 'bottom_quartile'?"]
    assert errors(policy_text(when="previous(level) == segment3")) == [
        "'segment3' is not a level of this policy (segment_1, segment_2, segment_3); did you "
        "mean 'segment_3'?"]
    assert errors(policy_text(when="regon == 'x'")) == [
        "unknown name 'regon'; did you mean 'region'?"]


def test_one_name_cannot_be_two_things():
    text = policy_text({"shmi": "beds > 1"}, extra="")
    assert errors(text) == ["'shmi' is both an input and a define"]
    bad = HEAD.replace("  beds: {type: number}", "  beds: {type: number}\n  then: {type: flag}")
    assert errors(policy_text(when="licence_breach") .replace(HEAD, bad)) == [
        "input 'then' has the name of a keyword of the language; choose another name"]


# --- types and units ------------------------------------------------------------------------

@pytest.mark.parametrize("expr, described", [
    ("ae_4hr_pct + 1", "a percentage"),
    ("1 + ae_4hr_pct", "a percentage"),
    ("ae_4hr_pct - drop", "a percentage"),
    ("deficit_gbp * 2", "an amount of money"),
    ("2 * deficit_gbp", "an amount of money"),
    ("deficit_gbp / 2", "an amount of money"),
    ("deficit_gbp / deficit_limit", "a number"),
    ("ae_4hr_pct * rtt_18wk_pct", "a number"),
    ("-deficit_gbp", "an amount of money"),
    ("complaints + 1", "a count"),
    ("ae_4hr_pct[-1]", "a percentage"),
    ("change(ae_4hr_pct, 4)", "a percentage"),
    ("mean_over(complaints, window)", "a number"),
    ("median_over(complaints, window)", "a number"),
    ("median_over(ae_4hr_pct, 3)", "a percentage"),
    ("sum_over(complaints, 2)", "a count"),
    ("max_over(cqc_overall, 2)", "a rating on the 'cqc' scale"),
    ("count_over(licence_breach, 4)", "a count"),
    ("pct_rank(ae_4hr_pct)", "a number"),
    ("rank(ae_4hr_pct)", "a count"),
    ("ntile(shmi, 4)", "a count"),
    ("percentile(ae_4hr_pct, 25)", "a percentage"),
    ("share(members, licence_breach)", "a percentage"),
    ("count(members, licence_breach)", "a count"),
    ("mean(members, deficit_gbp)", "an amount of money"),
    ("any(members, licence_breach)", "a true/false condition"),
    ("mean_of(ae_4hr_pct, rtt_18wk_pct)", "a percentage"),
    ("count_of(licence_breach, ae_4hr_pct < 50%)", "a count"),
    ("coalesce(ae_4hr_pct, 50%)", "a percentage"),
    ("missing(cqc_overall)", "a true/false condition"),
    ("previous(level)", "a level"),
    ("periods_in(level >= segment_3)", "a count"),
    ("position(cqc_overall)", "a number"),
    ("round(shmi, 2)", "a number"),
    ("if licence_breach then ae_4hr_pct else 0", "a percentage"),
    ("if licence_breach then 0 else deficit_gbp", "an amount of money"),
    ("ae_4hr_pct between 60% and 76%", "a true/false condition"),
    ("type", "a string"),
])
def test_expression_types(expr, described):
    assert define_type(expr) == described


@pytest.mark.parametrize("when, message", [
    ("ae_4hr_pct < deficit_limit", "cannot compare a percentage with an amount of money"),
    ("ae_4hr_pct + deficit_gbp > 0", "cannot add an amount of money to a percentage"),
    ("deficit_gbp - drop > £0", "cannot subtract a percentage from an amount of money"),
    ("cqc_overall > 2", "cannot compare a rating on the 'cqc' scale with a number"),
    ("cqc_overall == inadequate_school",
     "'inadequate_school' is a label of the 'ofsted' scale, not of the 'cqc' scale "
     "(outstanding, good, requires_improvement, inadequate)"),
    ("licence_breach == 1",
     "cannot compare a true/false condition with a number (a flag is true/false, not a number)"),
    ("licence_breach * 2 > 1",
     "'*' needs numbers, but this is a flag (a flag is true/false, not a number)"),
    ("previous(level) < 3", "cannot compare a level with a number"),
    ("type < 'b'", "'<' needs ordered values; a string can only be tested with '==' or '!='"),
    ("not ae_4hr_pct", "'not' needs a true/false condition, but this is a percentage"),
    ("-licence_breach", "cannot negate a true/false condition"),
    ("ae_4hr_pct", "rule 'r1' must be a true/false condition, but this is a percentage"),
    ("licence_breach and 1", "'and' needs true/false conditions on both sides, but this is a "
                             "number"),
    ("(if ae_4hr_pct then 1 else 2) > 0",
     "the condition of 'if' must be true/false, but this is a percentage"),
    ("ae_4hr_pct in [50%, £1]", "cannot compare a percentage with an amount of money"),
    ("licence_breach between 1 and 2", "'between' needs ordered values, but this is a "
                                       "true/false condition"),
    ("mean_of(ae_4hr_pct, deficit_gbp) > 0",
     "mean_of() needs values of one kind: a percentage and an amount of money"),
    ("sustained(licence_breach, drop)",
     "sustained(): param 'drop' is a percentage, not a number of periods"),
    ("sustained(licence_breach, 0)",
     "sustained(): the number of periods must be a whole number of at least 1, written as a "
     "number or a param"),
    ("ntile(shmi, 2.5) > 1", "ntile(): the number must be a whole number of at least 1, "
                             "written as a number or a param"),
    ("percentile(shmi, 150) > 1", "percentile(): p must be from 0 to 100"),
    ("round(shmi, 20) > 1", "round(): the number of decimal places must be a whole number from "
                            "0 to 12"),
    ("count(licence_breach, licence_breach) > 1",
     "count() works over an entity's members: write count(members, condition)"),
    ("previous(cqc_overall) == segment_3",
     "previous() takes the word 'level': write previous(level)"),
    ("metric_score(shmi, standard=cqc_overall) > 1",
     "standard= must be comparable with the scored value: a rating on the 'cqc' scale vs a "
     "number"),
    ("rank(shmi, better=up) < 3", "better= takes 'higher' or 'lower'"),
])
def test_type_errors(when, message):
    assert errors(policy_text(when=when)) == [message]


def test_several_errors_in_one_policy_are_reported_together_in_file_order():
    with pytest.raises(PolicyError) as info:
        checked(policy_text({"a": "shmi + licence_breach", "b": "ae_4hr_pct < £1"},
                            when="a > 1 or b or cqc_overall == goood"))
    found = [(d.pos.line, d.message) for d in info.value.diagnostics]
    assert found == sorted(found)
    assert len(found) == 3


# --- rank directions ------------------------------------------------------------------------

@pytest.mark.parametrize("call, direction", [
    ("pct_rank(ae_4hr_pct)", "higher"),
    ("pct_rank(deficit_gbp)", "lower"),
    ("pct_rank(-deficit_gbp)", "higher"),
    ("pct_rank(deficit_gbp[-1])", "lower"),
    ("pct_rank(deficit_gbp + £1m)", "lower"),
    ("pct_rank(deficit_gbp * 2)", "lower"),
    ("pct_rank(mean_over(shmi, 4))", "lower"),
    ("pct_rank(median_over(shmi, 4))", "lower"),
    ("pct_rank(change(ae_4hr_pct, 4))", "higher"),
    ("pct_rank(cqc_overall)", "lower"),
    ("pct_rank(d)", "lower"),
    ("pct_rank(beds, better=higher)", "higher"),
    ("pct_rank(ae_4hr_pct, better=lower)", "lower"),
    ("rank(pct_rank(ae_4hr_pct))", "higher"),
    ("rank(ntile(shmi, 4))", "lower"),
    ("zscore(mean_of(ae_4hr_pct, rtt_18wk_pct))", "higher"),
    ("pct_rank(if licence_breach then shmi else shmi * 2)", "lower"),
])
def test_rank_directions(call, direction):
    c = checked(policy_text({"d": "shmi[-1]", "x": call}, when="licence_breach or x > 1"))
    node = c.policy.defines["x"].expr
    assert c.directions[node.nid] == direction


@pytest.mark.parametrize("call", [
    "pct_rank(beds)",
    "pct_rank(100% - ae_4hr_pct)",
    "pct_rank(ae_4hr_pct - deficit_gbp / £1m)",
    "rank(mean_of(ae_4hr_pct, shmi))",
    "pct_rank(if licence_breach then shmi else ae_4hr_pct)",
])
def test_an_unknown_direction_is_an_error(call):
    name = call.split("(")[0]
    assert errors(policy_text({"x": call}, when="licence_breach or x > 1")) == [
        f"{name}() needs to know whether higher or lower is better for this expression; add "
        "better=higher or better=lower"]


def test_a_long_chain_of_defines_is_checked_without_deep_recursion():
    # a chain as long as the nesting limit allows (a longer one: tests/lang/test_limits.py)
    n = 120
    defines = {"d0": "shmi"} | {f"d{i}": f"d{i - 1}" for i in range(1, n)}
    c = checked(policy_text(defines, when=f"pct_rank(d{n - 1}) < 10"))
    assert c.directions[c.policy.rules[0].when.left.nid] == "lower"
    assert c.define_order[0] == "d0" and len(c.define_order) == n


# --- structure ------------------------------------------------------------------------------

def test_define_order_puts_dependencies_first_and_cycles_are_reported_once():
    c = checked(policy_text({"c": "b and licence_breach", "b": "a", "a": "ae_4hr_pct < 1%"},
                            when="c"))
    assert c.define_order == ("a", "b", "c")
    assert errors(policy_text({"a": "b", "b": "c and licence_breach", "c": "a"}, when="a")) == [
        "'a' is defined in terms of itself: a -> b -> c -> a"]


def test_judgement_level_cannot_be_the_default():
    text = policy_text().replace("  - {id: segment_2}", "  - {id: segment_2, decided_by: board}")
    assert errors(text) == ["the default level 'segment_2' cannot need a decision"]


def test_peer_group_must_be_an_entity_attribute():
    assert errors(policy_text(extra="peer_group: regon\n")) == [
        "peer_group 'regon' is not an entity attribute (one of id, name, kind, type, "
        "parent, region); did you mean 'region'?"]


def test_param_periods_are_checked_against_the_policy_period():
    extra = "  later: {values: [{from: 2021-13, value: 1}]}\n"
    text = policy_text(when="sustained(licence_breach, later)").replace(
        "  window: {value: 3, unit: quarters}\n", "  window: {value: 3, unit: quarters}\n" + extra)
    assert errors(text) == ["param 'later': '2021-13' has no month 13"]


# --- lint -----------------------------------------------------------------------------------

def test_unused_items_and_unreachable_levels_are_warnings():
    c = checked(policy_text({"used": "shmi > 1", "unused": "beds > 1"},
                            when="used and ae_4hr_pct < drop",
                            extra="applies_to: complaints >= 0\n"))
    warnings = [d.message for d in c.warnings]
    assert "define 'unused' is never used by a rule" in warnings
    assert "input 'beds' is never used by a rule" in warnings
    assert "param 'bottom_quartile' is never used by a rule" in warnings
    assert "no rule can reach level 'segment_1'" in warnings
    # read through a define, or by applies_to: used
    assert not any("'shmi'" in w or "'complaints'" in w or "'used'" in w for w in warnings)
    assert c.used_inputs == ("ae_4hr_pct", "shmi", "complaints")
    assert c.used_params == ("drop",)
    assert all(d.severity == "warning" for d in c.diagnostics)


def shadow_warnings(decide: str, *rules: tuple[str, str, str]) -> list[str]:
    text = HEAD + f"decide: {decide}\nrules:\n" + "".join(
        f"  - id: {rid}\n    level: {level}\n    when: {when}\n" for rid, level, when in rules)
    return [d.message for d in checked(text).warnings if d.code == "shadowed"]


NARROW = ("narrow", "segment_2", "licence_breach and shmi > 1")
BROAD_WORSE = ("broad", "segment_3", "licence_breach")
BROAD_SAME = ("broad", "segment_2", "licence_breach")


def test_shadowing_under_decide_worst():
    assert shadow_warnings("worst", NARROW, BROAD_WORSE) == [
        "rule 'narrow' can never change the outcome: whenever it fires, rule 'broad' fires "
        "too, with the worse level 'segment_3'"]
    assert shadow_warnings("worst", NARROW, BROAD_SAME) == []      # same level: no harm
    assert shadow_warnings("worst", BROAD_WORSE, NARROW) == [
        "rule 'narrow' can never change the outcome: whenever it fires, rule 'broad' fires "
        "too, with the worse level 'segment_3'"]                    # order does not matter


def test_shadowing_under_decide_first():
    assert shadow_warnings("first", BROAD_SAME, NARROW) == [
        "rule 'narrow' can never change the outcome: whenever it fires, the earlier rule "
        "'broad' fires first"]
    assert shadow_warnings("first", NARROW, BROAD_SAME) == []       # narrow comes first


def test_no_shadowing_under_decide_collect_but_false_never_fires():
    assert shadow_warnings("collect", NARROW, BROAD_WORSE) == []
    assert shadow_warnings("worst", ("never", "segment_3", "'false'"), BROAD_WORSE) == [
        "rule 'never' can never fire: its condition is false"]


# --- percentages written as fractions -------------------------------------------------------

@pytest.mark.parametrize("when, warned", [
    ("ae_4hr_pct < 0.76", ["ae_4hr_pct is a percentage (0-100), compared here with 0.76; did "
                           "you mean 76%?"]),
    ("1 > ae_4hr_pct", ["ae_4hr_pct is a percentage (0-100), compared here with 1; did you "
                        "mean 100%?"]),
    ("ae_4hr_pct between 0.5 and 0.9", [
        "ae_4hr_pct is a percentage (0-100), compared here with 0.5; did you mean 50%?",
        "ae_4hr_pct is a percentage (0-100), compared here with 0.9; did you mean 90%?"]),
    ("ae_4hr_pct < 0.76%", []), ("ae_4hr_pct > 0", []), ("ae_4hr_pct < 76", []),
    ("shmi > 1.1", []), ("ae_4hr_pct < 1.5", []),
])
def test_a_percentage_compared_with_a_fraction_is_a_warning(when, warned):
    c = checked(policy_text(when=when))
    assert [d.message for d in c.warnings if d.code == "percent-scale"] == warned


def test_a_percentage_compared_with_a_fractional_param_is_a_warning():
    c = checked(policy_text(when="ae_4hr_pct < floor").replace("params:\n",
                                                               "params:\n  floor: 0.92\n"))
    (w,) = [d for d in c.warnings if d.code == "percent-scale"]
    assert w.message == ("ae_4hr_pct is a percentage (0-100), compared here with param 'floor' "
                         "(0.92); did you mean 92%?")
    assert w.hint == "give 'floor' as 92% for 92 percent, or 0.92% if you mean less than one percent"


def test_median_over_takes_a_number_and_a_window():
    """The checker knows median_over from its registry entry alone (CONTRIBUTING.md)."""
    assert errors(policy_text(when="median_over(licence_breach, 3) > 1")) == [
        "median_over() needs a number here, but this is a true/false condition (a flag is "
        "true/false, not a number)"]
    assert errors(policy_text(when="median_over(shmi, 0) > 1")) == [
        "median_over(): the number of periods must be a whole number of at least 1, written as "
        "a number or a param"]
    assert errors(policy_text(when="median_over(shmi, 601) > 1")) == [
        "median_over(): a window reaches back at most 600 periods"]
