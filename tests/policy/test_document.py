"""YAML documents with positions: values and keys located, expressions located character by
character through every scalar style, and hostile or malformed files refused with a located,
readable PolicyError."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from rulesengine.diagnostics import PolicyError, Pos
from rulesengine.policy.document import MAX_POLICY_BYTES, MAX_YAML_DEPTH, load_document


def refused(text: str) -> list[str]:
    """Each diagnostic's headline and hint, for a text load_document refuses."""
    with pytest.raises(PolicyError) as info:
        load_document(text, "p.yaml")
    return [d.headline() + (f" | {d.hint}" if d.hint else "") for d in info.value.diagnostics]


def test_values_and_keys_have_positions():
    doc = load_document("policy: x\nlevels:\n  - {id: a, label: 'A'}\n  - id: b\n", "p.yaml")
    assert doc.data == {"policy": "x", "levels": [{"id": "a", "label": "A"}, {"id": "b"}]}
    assert doc.pos(("policy",)) == Pos(1, 9, 10)
    assert doc.key(("policy",)) == Pos(1, 1, 7)
    assert doc.pos(("levels", 0, "id")) == Pos(3, 10, 11)
    assert doc.key(("levels", 1, "id")) == Pos(4, 5, 7)
    assert doc.pos(("levels", 1)) == Pos(4, 5)
    # an unknown path falls back to the nearest enclosing value
    assert doc.pos(("levels", 1, "label")) == Pos(4, 5)
    assert doc.key(("nothing",)) == doc.pos(())


def test_dates_stay_text_and_merge_keys_work():
    doc = load_document("a: &b {x: 1}\nfrom: 2021-07-01\nc:\n  <<: *b\n  y: 2\n", "p.yaml")
    assert doc.data == {"a": {"x": 1}, "from": "2021-07-01", "c": {"x": 1, "y": 2}}


# --- locating expressions through every scalar style ----------------------------------------

EXPRESSION = "pct_rank(ae) <= 25 and\ncqc in [good, 'poor']"


@pytest.mark.parametrize("style", [None, "'", '"', "|", ">"])
def test_each_character_of_an_expression_is_found_in_the_file(style):
    text = yaml.dump({"rules": [{"id": "r", "when": EXPRESSION}]}, default_style=style,
                     width=30, allow_unicode=True)
    doc = load_document(text, "p.yaml")
    value = doc.data["rules"][0]["when"]
    assert value == EXPRESSION
    lines = text.splitlines()
    locate = doc.locator(("rules", 0, "when"))
    for offset, ch in enumerate(value):
        line, col = locate(offset)
        if ch not in " \n'":       # quotes are doubled in '...', and blanks fold
            assert lines[line - 1][col - 1] == ch, (style, offset, text)


@pytest.mark.parametrize("block", [
    "when: |\n      a <= 25\n        and b\n",
    "when: >\n      a <= 25\n      and b\n",
    "when: >-\n      a <= 25\n\n      and b\n",
    "when: |2\n        a <= 25\n        and b\n",
    "when: a <= 25\n      and b\n",
    "when: \"a <= 25 \\\n      and b\"\n",
    "when: \"\\x61 <= 25 \\u0061nd b\"\n",
    "when: 'a <= 25 and b'\n",
    "when: \"a\\t<= 25 and b\"\n",
])
def test_block_and_quoted_scalars_locate_the_last_name(block):
    text = "rules:\n  - id: r\n    " + block
    doc = load_document(text, "p.yaml")
    value = doc.data["rules"][0]["when"]
    line, col = doc.locator(("rules", 0, "when"))(value.rindex("b"))
    assert text.splitlines()[line - 1][col - 1] == "b"


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_line_breaks_of_every_kind(newline):
    text = newline.join(["policy: x", "when: a", "  and b", ""])
    doc = load_document(text, "p.yaml")
    assert doc.locator(("when",))(doc.data["when"].index("b")) == (3, 7)
    assert doc.source.line(3) == "  and b"


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=string.ascii_letters + string.digits + "_ ()[]<>=!+-*/%£.,'\"\\é\t",
               min_size=1, max_size=60),
       st.sampled_from([None, "'", '"', "|", ">"]))
def test_locator_always_lands_inside_the_scalar(value, style):
    text = yaml.dump({"define": {"x": value}}, default_style=style, allow_unicode=True)
    doc = load_document(text, "p.yaml")
    if not isinstance(doc.data["define"]["x"], str):
        return
    node_start = doc.pos(("define", "x"))
    lines = text.splitlines()
    locate = doc.locator(("define", "x"))
    for offset in range(len(doc.data["define"]["x"]) + 2):
        line, col = locate(offset)
        assert (line, col) >= (node_start.line, node_start.col)
        assert line <= len(lines) + 1 and col >= 1


# --- malformed YAML -------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("policy: x\n\tentity: t\n",
     ["p.yaml:2:1: error: invalid YAML: a tab character here; YAML is indented with spaces "
      "only"]),
    ('title: "abc\nx: 1\n',
     ["p.yaml:1:8: error: invalid YAML: this quoted string is never closed | end it with the "
      "same quote mark it starts with"]),
    ("when: a: b\n",
     ["p.yaml:1:8: error: invalid YAML: ': ' (a colon and a space) cannot appear in an "
      "unquoted value | put the whole value in quotes"]),
    ("entity trust\nperiod: year\n",
     ["p.yaml:1:1: error: invalid YAML: expected ':' after this key | write 'key: value'; a "
      "value that spans lines must be indented under its key"]),
    ("levels: [{id: a}\nx: 1\n",
     ["p.yaml:2:1: error: invalid YAML: expected ',' or ']' (the list opened at line 1, "
      "column 9), found a value"]),
    ("a: {b: 1\nc: 2\n",
     ["p.yaml:2:2: error: invalid YAML: expected ',' or '}' (the mapping opened at line 1, "
      "column 4), found ':'"]),
    ("levels:\n  - id: a\n   label: b\n",
     ["p.yaml:3:4: error: invalid YAML: a new key is not expected here | check the "
      "indentation: this block starts at line 2, column 3"]),
    ("when: [a] < 3\n",
     ["p.yaml:1:11: error: invalid YAML: a value is not expected here | a value that starts "
      "with '[' or '{' is read as a YAML list or mapping; if it is an expression, put the "
      "whole value in quotes"]),
    ("when: !a\n",
     ["p.yaml:1:7: error: invalid YAML: '!a' is read as a YAML tag | put the whole value in "
      "quotes (and write 'not' for negation, not '!')"]),
    ("when: * 3\n",
     ["p.yaml:1:7: error: invalid YAML: '*' at the start of a value begins an alias | put the "
      "whole value in quotes"]),
    ("x: *nope\n",
     ["p.yaml:1:4: error: invalid YAML: '*nope' refers to no anchor '&nope' | if '*' is not "
      "meant as an alias, put the whole value in quotes"]),
    ("title: @home\n",
     ["p.yaml:1:8: error: invalid YAML: a value cannot start with '@' | put the whole value "
      "in quotes"]),
    ('title: "a\\qb"\n',
     ["p.yaml:1:10: error: invalid YAML: unknown escape '\\q' in a double-quoted string | "
      "write '\\\\' for a backslash, or use single quotes"]),
    ("when: - a\n",
     ["p.yaml:1:7: error: invalid YAML: '- ' starts a list item and is not allowed here | if "
      "this is an expression, put the whole value in quotes"]),
    ("a: 1\n---\nb: 2\n",
     ["p.yaml:2:1: error: invalid YAML: a policy file holds one YAML document, but '---' "
      "starts another"]),
    ("a: 1\nb: 2\na: 3\n", ["p.yaml:3:1: error: duplicate key 'a'"]),
    ("a: &x 1\nb: &x 2\n",
     ["p.yaml:2:4: error: invalid YAML: the anchor '&x' is defined twice (first at line 1)"]),
    ("when: 'acute' == type\n",
     ["p.yaml:1:15: error: invalid YAML: a value is not expected here | a value that starts "
      "with a quote ends at its closing quote; if it is an expression, put the whole of it in "
      "quotes of the other kind"]),
    ("- a\nb: 1\n",
     ["p.yaml:2:1: error: invalid YAML: a key is not expected here | check the indentation: "
      "this block starts at line 1, column 1"]),
    ("a: 1\n...\nb: 2\n",
     ["p.yaml:3:1: error: invalid YAML: expected '---', but found a new key"]),
    ("a: &a [1, {b: *a}]\n",
     ["p.yaml:1:4: error: invalid YAML: an alias refers to the list or mapping that contains "
      "it"]),
    ("? [a]\n: 1\n", ["p.yaml:1:3: error: mapping keys must be plain names"]),
    ("a: 1\x00\n",
     ["p.yaml:1:5: error: invalid YAML: the character U+0000 is not allowed in a policy file"]),
    ("", ["p.yaml: error: the policy file is empty"]),
    ("# only a comment\n", ["p.yaml: error: the policy file is empty"]),
])
def test_malformed_yaml(text, expected):
    assert refused(text) == expected


def test_control_characters_are_never_echoed():
    with pytest.raises(PolicyError) as info:
        load_document("title: a\x07b\n", "p.yaml")
    rendered = info.value.diagnostics[0].render()
    assert "\x07" not in rendered and "\ufffd" in rendered


# --- limits ---------------------------------------------------------------------------------

def test_file_size_limit():
    text = "a: " + "x" * MAX_POLICY_BYTES + "\n"
    assert refused(text) == [f"p.yaml: error: policy file too large ({len(text):,} bytes; the "
                             f"limit is {MAX_POLICY_BYTES:,}) | set the environment variable "
                             f"REGIME_MAX_POLICY_BYTES to raise the limit"]


@pytest.mark.parametrize("text, line_col", [
    ("a: " + "[" * 200 + "]" * 200 + "\n", (1, 4 + MAX_YAML_DEPTH)),
    ("a: " + "{b: " * 200 + "1" + "}" * 200 + "\n", (1, 4 + 4 * MAX_YAML_DEPTH)),
    ("a:\n" + "".join(" " * (2 * i) + f"k{i}:\n" for i in range(100)), None),
    ("- " * 200 + "x\n", None),
])
def test_nesting_limit(text, line_col):
    with pytest.raises(PolicyError) as info:
        load_document(text, "p.yaml")
    (d,) = info.value.diagnostics
    assert d.message == f"YAML nested more than {MAX_YAML_DEPTH} levels deep"
    assert d.pos is not None
    if line_col:
        assert (d.pos.line, d.pos.col) == line_col


def test_nesting_within_the_limit_loads():
    depth = MAX_YAML_DEPTH - 2
    doc = load_document("a: " + "[" * depth + "1" + "]" * depth + "\n", "p.yaml")
    assert doc.data["a"] is not None


def test_alias_expansion_limit_names_the_key():
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 9):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    text = "\n".join(lines) + "\n"
    (headline,) = refused(text)
    assert headline == ("p.yaml:6:1: error: YAML expands to more than 200,000 values; refusing "
                        "it (aliases '*' repeating an anchor '&' many times?)")


# --- the YAML dialect: the YAML 1.2 core schema ---------------------------------------------

@pytest.mark.parametrize("written, read", [
    ("017", 17), ("-017", -17), ("+5", 5), ("1e5", 100000.0), ("1.", 1.0), (".5", 0.5),
    ("2.5e-3", 0.0025),
    ("1:30", "1:30"), ("0b101", "0b101"), ("0x10", "0x10"), ("0o17", "0o17"), ("1_000", "1_000"),
    ("true", True), ("True", True), ("TRUE", True), ("false", False), ("FALSE", False),
    ("on", "on"), ("off", "off"), ("yes", "yes"), ("no", "no"), ("y", "y"), ("n", "n"),
    ("~", None), ("null", None), ("NULL", None), ("", None),
    ("2021-07-01", "2021-07-01"), ("=", "="), ("'017'", "017"), ("'true'", "true"),
])
def test_the_core_schema_reads_values_as_written(written, read):
    value = load_document(f"a: {written}\n", "p.yaml").data["a"]
    assert value == read and type(value) is type(read)


def test_keys_follow_the_same_dialect():
    assert load_document("017: a\non: b\nyes: c\n", "p.yaml").data == {
        "17": "a", "on": "b", "yes": "c"}


@pytest.mark.parametrize("written, headline, hint", [
    (".nan", "p.yaml:1:4: error: .nan is not a finite number",
     "a policy's numbers are finite: write one, or quote it if it is text"),
    ("-.inf", "p.yaml:1:4: error: -.inf is not a finite number",
     "a policy's numbers are finite: write one, or quote it if it is text"),
    (".Inf", "p.yaml:1:4: error: .Inf is not a finite number",
     "a policy's numbers are finite: write one, or quote it if it is text"),
    ("1e999", "p.yaml:1:4: error: number too large: 1e999",
     "put it in quotes if it is text"),
    ("!!float .nan", "p.yaml:1:4: error: .nan is not a finite number",
     "a policy's numbers are finite: write one, or quote it if it is text"),
    ("!!int 0x10", "p.yaml:1:4: error: '0x10' is not a decimal number",
     "put it in quotes if it is text"),
    ("!!bool yes", "p.yaml:1:4: error: 'yes' is not true or false",
     "put it in quotes if it is text"),
])
def test_values_outside_the_dialect_are_refused_where_they_are(written, headline, hint):
    assert refused(f"a: {written}\n") == [f"{headline} | {hint}"]


def test_a_five_thousand_digit_number_is_refused_without_printing_it():
    (message,) = refused("params:\n  cut: " + "9" * 5000 + "\n")
    assert message.startswith("p.yaml:2:8: error: number too long (5,000 characters; the "
                              "limit is 100)")
    assert "9" * 30 not in message
    with pytest.raises(PolicyError) as info:
        load_document("a: 1" + "0" * 400 + ".5\n", "p.yaml")
    assert len(info.value.diagnostics[0].render()) < 400


def test_a_merge_key_is_overridden_by_the_mapping_s_own_keys():
    doc = load_document("base: &b {level: segment_3, when: x, reason: shared}\n"
                        "rule:\n  <<: *b\n  when: y\n", "p.yaml")
    assert doc.data["rule"] == {"level": "segment_3", "when": "y", "reason": "shared"}
    # the overriding value is located where it is written, the merged ones in the anchor
    assert doc.pos(("rule", "when")) == Pos(4, 9, 10)
    assert doc.pos(("rule", "level")).line == 1


def test_of_several_merged_mappings_the_first_wins_and_own_keys_win_over_all():
    doc = load_document("a: &a {x: 1, y: 1}\nb: &b {x: 2, y: 2, z: 2}\n"
                        "c: {<<: [*a, *b], y: 3}\n", "p.yaml")
    assert doc.data["c"] == {"x": 1, "y": 3, "z": 2}


def test_merge_keys_through_merged_mappings():
    doc = load_document("a: &a {x: 1}\nb: &b {<<: *a, y: 2}\nc: {<<: *b, x: 3}\n", "p.yaml")
    assert doc.data["c"] == {"x": 3, "y": 2}


def test_a_key_twice_in_one_mapping_is_still_a_duplicate():
    assert refused("a: &a {x: 1}\nc:\n  <<: *a\n  y: 1\n  y: 2\n") == [
        "p.yaml:5:3: error: duplicate key 'y'"]


def test_a_merge_key_takes_mappings_only():
    assert refused("a: &a [1]\nc: {<<: *a}\n") == [   # a list whose item is no mapping
        "p.yaml:1:8: error: invalid YAML: '<<' merges a mapping (an alias '*' of one) or a "
        "list of mappings"]
    assert refused("c: {<<: 1}\n") == [
        "p.yaml:1:9: error: invalid YAML: '<<' merges a mapping (an alias '*' of one) or a "
        "list of mappings"]


def test_a_long_chain_of_merges_is_refused_not_a_recursion_error():
    lines = ["m0: &m0 {k: 0}"] + [f"m{i}: &m{i} {{<<: *m{i - 1}, k{i}: {i}}}"
                                  for i in range(1, 200)]
    (message,) = refused("\n".join(lines) + "\n")
    assert f"YAML merge keys '<<' nested more than {MAX_YAML_DEPTH} levels deep" in message


def test_written_yaml_reads_back_the_same_in_this_dialect_and_in_yaml_1_1():
    from rulesengine.policy.document import dump_yaml

    data = {"version": "1e5", "a": "017", "b": "yes", "c": "0x10", "d": "True", "e": "1:30",
            "f": "<<", "g": ".nan", "h": "", "i": 1.5, "j": True, "k": None, "l": "text"}
    text = dump_yaml(data)
    assert load_document(text, "p.yaml").data == data
    assert yaml.safe_load(text) == data


# --- libyaml's fast path: the same document, or _Loader's diagnostic ----------------------

def _both_ways(text: str, monkeypatch):
    """load_document's result (data and every position, or the error) through libyaml and
    through PyYAML's Python parser."""
    from rulesengine.policy import document

    def load():
        try:
            doc = load_document(text, "p.yaml")
        except PolicyError as e:
            return str(e)
        return doc.data, doc.value_pos, doc.key_pos, {
            path: (n.start_mark.index, n.end_mark.index) for path, n in doc._scalars.items()}

    fast = load()
    with monkeypatch.context() as m:
        m.setattr(document, "_FastLoader", None)
        slow = load()
    return fast, slow


BUNDLED = sorted((Path(__file__).resolve().parents[2] / "policies").glob("*.yaml"))


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_libyaml_reads_every_bundled_policy_as_pyyaml_does(path, monkeypatch):
    from rulesengine.policy import document

    text = path.read_text()
    assert document._compose_fast(text) is not None        # the fast path is really taken
    fast, slow = _both_ways(text, monkeypatch)
    assert fast == slow


@settings(max_examples=15, deadline=None)
@given(st.data())
def test_libyaml_and_pyyaml_agree_on_damaged_policies(data):
    # edits of a real policy: many are malformed YAML, whose diagnostics must be _Loader's
    text = BUNDLED[data.draw(st.integers(0, len(BUNDLED) - 1))].read_text()
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(text)))
        edit = data.draw(st.sampled_from([" ", "\n", ":", "- ", "[", "]", "{", "'", '"', "#",
                                          "&a ", "*a", "!!int ", "\t", "|", ">", "?", "\ufeff",
                                          "\u00e9", "\u2028", "\r", ""]))
        cut = data.draw(st.integers(0, 3))
        text = text[:at] + edit + text[at + cut:]
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast, slow = _both_ways(text, monkeypatch)
    assert fast == slow


@pytest.mark.parametrize("text", [
    "a:\n\tb: 1\n",                                     # tabs: PyYAML's rule, not libyaml's
    "a: " + "[" * (MAX_YAML_DEPTH + 1) + "]" * (MAX_YAML_DEPTH + 1) + "\n",   # too deep
    "a: " + "[" * 5000 + "\n",                          # past the cheap bound: never parsed in C
])
def test_texts_libyaml_may_not_judge_go_to_pyyaml(text, monkeypatch):
    from rulesengine.policy import document

    if "\t" in text or text.count("[") > 1000:
        assert document._compose_fast(text) is None
    fast, slow = _both_ways(text, monkeypatch)
    assert fast == slow and isinstance(fast, str)
