"""The checker: resolve names, detect cycles, type every expression, lint the policy.

Input is a `Policy` (parsed, `extends` resolved); output is a `CheckedPolicy`: the policy plus
side tables keyed by node id (types, references, rank directions), as cel-go's checker
annotates an AST. All errors in a policy are collected before PolicyError is raised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, TypeVar

from .. import codes
from ..diagnostics import (Diagnostic, PolicyError, Pos, Reporter, Source, did_you_mean,
                           sorted_diagnostics)
from ..lang import ast, types as T
from ..lang.builtins import BUILTINS, MEMBER_FUNCTIONS
from ..lang.types import Type
from ..periods import PeriodError, parse_period
from ..policy.effective import desugar  # rules' `effective:` ranges -> dated params
from ..policy.model import ENTITY_ATTRIBUTES, PERCENT_SCALES, Policy
from .calls import CallChecks
from .lint import Lints, canonical
from .scope import Ref, Scope as _Scope

__all__ = ["MAX_NESTING", "CheckedPolicy", "Ref", "canonical", "check"]

# How deep an expression may nest counting the defines it uses, as if each were written out
# in place. Every evaluator (reference, explain, tests) follows a define where it is used, so
# this bounds their depth for every command alike; far beyond any real policy, whose chains
# of defines are a few levels deep.
MAX_NESTING = 128

RESERVED = {"level", "members", "parent", "all", "true", "false", "higher", "lower"}
KEYWORDS = {"and", "or", "not", "in", "between", "if", "then", "else"}

_T = TypeVar("_T")

# The functions `members` may be given to, from the registry (as the hint names them).
_MEMBER_FUNCTIONS_TEXT = ", ".join(sorted(MEMBER_FUNCTIONS)[:-1]) + " or " + max(MEMBER_FUNCTIONS)


@dataclass(frozen=True)
class CheckedPolicy:
    policy: Policy
    types: Mapping[int, Type]
    refs: Mapping[int, Ref]
    directions: Mapping[int, str]        # peer-function call nid -> "higher" | "lower"
    define_order: tuple[str, ...]        # dependencies first
    used_inputs: tuple[str, ...]         # inputs the rules read, in declaration order
    used_params: tuple[str, ...]
    diagnostics: tuple[Diagnostic, ...]  # warnings; errors were raised

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    def type_of(self, node: ast.Node) -> Type:
        return self.types[node.nid]

    def derived(self, key: str, compute: Callable[["CheckedPolicy"], _T]) -> _T:
        """What a later stage works out from this checked policy alone (which values depend
        on earlier levels, which are repeats), computed once: a diff or a sweep evaluates one
        policy many times. Kept beside the fields, not among them, so equality, the cache
        file and `dataclasses.replace` ignore it. Treat the value as read-only."""
        memo = self.__dict__.setdefault("_derived", {})
        if key not in memo:
            memo[key] = compute(self)
        return memo[key]

    def ref(self, node: ast.Node) -> Ref | None:
        return self.refs.get(node.nid)


def check(policy: Policy) -> CheckedPolicy:
    """Check a policy; raise PolicyError listing every error (warnings ride along)."""
    return _Checker(desugar(policy)).run()


@dataclass
class _Checker(CallChecks, Lints):
    policy: Policy
    report: Reporter = field(default_factory=Reporter)
    types: dict[int, Type] = field(default_factory=dict)
    refs: dict[int, Ref] = field(default_factory=dict)
    directions: dict[int, str] = field(default_factory=dict)
    define_types: dict[str, Type] = field(default_factory=dict)
    define_dirs: dict[str, str | None] = field(default_factory=dict)
    canonical_text: dict[int, str] = field(default_factory=dict)   # nid -> canonical(node)
    conj_memo: dict[int, frozenset[str]] = field(default_factory=dict)
    disj_memo: dict[int, frozenset[frozenset[str]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        p = self.policy
        self.level_ids = {lv.id: lv.index for lv in p.levels}
        self.labels: dict[str, list[tuple[str, int]]] = {}
        first_rule: dict[str, Pos] = {}
        for rule in p.rules:
            if rule.id in first_rule:
                self.error(f"duplicate rule id '{rule.id}' (first at line "
                           f"{first_rule[rule.id].line})", rule.pos, rule.origin,
                           code=codes.DUPLICATE_RULE)
            first_rule.setdefault(rule.id, rule.pos)

        for scale in p.scales.values():
            for i, label in enumerate(scale.labels):
                self.labels.setdefault(label, []).append((scale.name, i))

    # --- driver -----------------------------------------------------------------------------

    def run(self) -> CheckedPolicy:
        p = self.policy
        self.check_structure()
        order, cyclic = self.define_order()
        for name in order:
            d = p.defines[name]
            self.define_types[name] = (self.expr(d.expr, _Scope(d.origin))
                                       if d.expr is not None else T.ERROR)
            # Dependencies first, so a define's direction never recurses through other
            # defines: a long chain of defines cannot exhaust the stack.
            self.define_dirs[name] = self.direction(d.expr) if d.expr is not None else None
        for name in cyclic:
            self.define_types[name] = T.ERROR
        if p.applies_to is not None and p.applies_to.expr is not None:
            self.expect_bool(p.applies_to.expr, _Scope(p.applies_to.origin), "applies_to")
        for rule in p.rules:
            if rule.level not in self.level_ids and p.levels:
                self.error(f"rule '{rule.id}': unknown level '{rule.level}'"
                           f"{did_you_mean(rule.level, self.level_ids)}", rule.level_pos,
                           rule.origin, code=codes.UNKNOWN_LEVEL)
            if rule.when is not None:
                self.expect_bool(rule.when, _Scope(rule.origin), f"rule '{rule.id}'")
        self.check_nesting(order)
        if self.report.has_errors:
            raise PolicyError(sorted_diagnostics(self.report.diagnostics))
        used_inputs, used_params = self.lint()
        return CheckedPolicy(
            policy=p, types=dict(self.types), refs=dict(self.refs),
            directions=dict(self.directions), define_order=tuple(order),
            used_inputs=used_inputs, used_params=used_params,
            diagnostics=tuple(sorted_diagnostics(self.report.diagnostics)))

    def error(self, message: str, pos: Pos | None, origin: Source, *, code: str = codes.TYPE,
              hint: str | None = None) -> None:
        self.report.add(message, pos, source=origin, code=code, hint=hint)

    def warn(self, message: str, pos: Pos | None, origin: Source, *, code: str) -> None:
        self.report.add(message, pos, source=origin, code=code, severity="warning")

    # --- the policy's declarations ------------------------------------------------------------

    def check_structure(self) -> None:
        p = self.policy
        src = p.origin
        if not p.levels:
            self.error("the policy declares no levels (add 'levels:', best first)", p.pos, src,
                       code=codes.STRUCTURE)
        seen: dict[str, Pos] = {}
        for lv in p.levels:
            if lv.id in seen:
                self.error(f"level '{lv.id}' is declared twice (first at line "
                           f"{seen[lv.id].line})", lv.pos, lv.origin, code=codes.DUPLICATE)
            seen.setdefault(lv.id, lv.pos)
        if p.default is None:
            if p.levels:
                self.error("the policy has no 'default' level (the level when no rule fires)",
                           p.pos, src, code=codes.STRUCTURE)
        elif p.default not in self.level_ids and p.levels:
            self.error(f"default level '{p.default}' is not one of the levels"
                       f"{did_you_mean(p.default, self.level_ids)}", p.default_pos, src,
                       code=codes.UNKNOWN_LEVEL)
        elif p.levels and p.level(p.default).decided_by:
            self.error(f"the default level '{p.default}' cannot need a decision", p.default_pos,
                       src, code=codes.STRUCTURE)
        if p.entity is None:
            self.error("the policy does not say which kind of body it decides on "
                       "(add 'entity: trust', 'entity: ics', ...)", p.pos, src, code=codes.STRUCTURE)
        if p.period is None:
            self.error("the policy does not say its period (add 'period: month', 'quarter' or "
                       "'year')", p.pos, src, code=codes.STRUCTURE)
        if p.peer_group is not None and p.peer_group not in ENTITY_ATTRIBUTES:
            self.error(f"peer_group '{p.peer_group}' is not an entity attribute (one of "
                       f"{', '.join(ENTITY_ATTRIBUTES)}){did_you_mean(p.peer_group, ENTITY_ATTRIBUTES)}",
                       p.peer_group_pos, src, code=codes.UNKNOWN_NAME)

        for scale in p.scales.values():
            if len(set(scale.labels)) != len(scale.labels):
                self.error(f"scale '{scale.name}' lists a label twice", scale.pos, scale.origin,
                           code=codes.DUPLICATE)

        namespaces = [("input", p.inputs), ("param", p.params), ("define", p.defines)]
        owner: dict[str, str] = {}
        for kind, table in namespaces:
            for name, item in table.items():
                if name in RESERVED or name in ENTITY_ATTRIBUTES or name in BUILTINS or \
                        name in KEYWORDS:
                    what = ("an entity attribute" if name in ENTITY_ATTRIBUTES else
                            "a built-in function" if name in BUILTINS else
                            "a keyword of the language" if name in KEYWORDS else "a reserved word")
                    self.error(f"{kind} '{name}' has the name of {what}; choose another name",
                               item.pos, item.origin, code=codes.RESERVED)
                elif name in owner:
                    self.error(f"'{name}' is both {_article(owner[name])} and {_article(kind)}",
                               item.pos, item.origin, code=codes.DUPLICATE)
                owner.setdefault(name, kind)

        for inp in p.inputs.values():
            if inp.type == "rating":
                if inp.scale is None:
                    self.error(f"input '{inp.name}' is a rating: say which scale "
                               f"(scale: {next(iter(p.scales), 'name')})", inp.pos, inp.origin,
                               code=codes.STRUCTURE)
                elif inp.scale not in p.scales:
                    self.error(f"input '{inp.name}': unknown scale '{inp.scale}'"
                               f"{did_you_mean(inp.scale, p.scales)}", inp.pos, inp.origin,
                               code=codes.UNKNOWN_NAME)
            elif inp.type == "percent" and inp.scale in PERCENT_SCALES:
                pass                    # how the data write it: 0.75 or 75 for 75%
            elif inp.scale is not None:
                self.error(f"input '{inp.name}' has a scale but is not a rating"
                           + (" (scale: fraction or percent is for percent inputs)"
                              if inp.scale in PERCENT_SCALES else ""), inp.pos,
                           inp.origin, code=codes.STRUCTURE)
            if inp.expect is not None and (inp.type in ("flag", "rating")
                                           or inp.expect[0] > inp.expect[1]):
                self.error(f"input '{inp.name}': expect {inp.expect[0]:g}..{inp.expect[1]:g} "
                           + ("is for numbers" if inp.type in ("flag", "rating")
                              else "is empty: write the lower bound first"), inp.pos,
                           inp.origin, code=codes.STRUCTURE)
            if inp.better and inp.type in ("flag", "rating"):
                self.error(f"input '{inp.name}': 'better' is for numbers; a {inp.type}'s "
                           "order is fixed", inp.pos, inp.origin, code=codes.STRUCTURE)

        for param in p.params.values():
            starts = [v.start for v in param.values if v.start is not None]
            parsed = True
            for start in starts:
                try:
                    parse_period(start, p.period)
                except PeriodError as e:
                    parsed = False
                    self.error(f"param '{param.name}': {e}", param.pos, param.origin,
                               code=codes.PERIOD)
            if parsed and starts != sorted(starts, key=lambda s: _period_key(s, p.period)):
                self.error(f"param '{param.name}': effective-dated values must be in date order",
                           param.pos, param.origin, code=codes.PERIOD)

    def define_order(self) -> tuple[list[str], list[str]]:
        """Defines with dependencies first; cycles reported once each."""
        p = self.policy
        deps = {name: [n.name for n in ast.walk(d.expr) if isinstance(n, ast.Name)
                       and n.name in p.defines] if d.expr is not None else []
                for name, d in p.defines.items()}
        order: list[str] = []
        state: dict[str, int] = {}   # 1 = on the path, 2 = done
        cyclic: set[str] = set()
        for root in p.defines:
            if state.get(root):
                continue
            path: list[str] = []
            stack: list[tuple[str, int]] = [(root, 0)]
            while stack:
                name, i = stack.pop()
                if i == 0:
                    state[name] = 1
                    path.append(name)
                if i < len(deps[name]):
                    stack.append((name, i + 1))
                    dep = deps[name][i]
                    if state.get(dep) == 1:
                        loop = path[path.index(dep):] + [dep]
                        if not cyclic & set(loop):
                            d = p.defines[dep]
                            self.error(f"'{dep}' is defined in terms of itself: "
                                       + " -> ".join(loop), d.pos, d.origin, code=codes.CYCLE)
                        cyclic.update(loop)
                    elif not state.get(dep):
                        stack.append((dep, 0))
                else:
                    state[name] = 2
                    path.pop()
                    if name not in cyclic:
                        order.append(name)
        return [n for n in order if n not in cyclic], sorted(cyclic)

    # --- expressions --------------------------------------------------------------------------

    def expect_bool(self, node: ast.Node, scope: _Scope, what: str) -> None:
        t = self.expr(node, scope)
        if t not in (T.BOOL, T.ERROR):
            self.error(f"{what} must be a true/false condition, but this is {T.describe(t)}",
                       node.pos, scope.origin)

    def expr(self, node: ast.Node, scope: _Scope, expected: Type | None = None) -> Type:
        t = self._expr(node, scope, expected)
        self.types[node.nid] = t
        return t

    def _expr(self, node: ast.Node, scope: _Scope, expected: Type | None) -> Type:
        if isinstance(node, ast.Number):
            return Type(node.unit)
        if isinstance(node, ast.Bool):
            return T.BOOL
        if isinstance(node, ast.String):
            return T.STRING
        if isinstance(node, ast.Name):
            return self.name(node, scope, expected)
        if isinstance(node, ast.Attribute):
            return self.attribute(node, scope)
        if isinstance(node, ast.Unary):
            return self.unary(node, scope)
        if isinstance(node, ast.Binary):
            return self.binary(node, scope)
        if isinstance(node, ast.In):
            return self.in_(node, scope)
        if isinstance(node, ast.Between):
            return self.between(node, scope)
        if isinstance(node, ast.If):
            return self.if_(node, scope)
        if isinstance(node, ast.Lag):
            if scope.level_only:
                return self.not_level(node, scope)
            return self.expr(node.operand, scope)
        if isinstance(node, ast.Call):
            return self.call(node, scope)
        raise AssertionError(f"unknown node {type(node).__name__}")

    def name(self, node: ast.Name, scope: _Scope, expected: Type | None) -> Type:
        p = self.policy
        n = node.name
        if n == "level":
            if scope.level_var:
                self.refs[node.nid] = Ref("level_var", n)
                return T.LEVEL
            self.error("'level' is the outcome being decided; use previous(level) for the last "
                       "period's", node.pos, scope.origin, code=codes.LEVEL)
            return T.ERROR
        if scope.level_only and n not in self.level_ids:
            return self.not_level(node, scope)
        if n == "members":
            self.error("'members' stands for an entity's members only as the first argument of "
                       f"{_MEMBER_FUNCTIONS_TEXT}, e.g. count(members, cond)", node.pos,
                       scope.origin, code=codes.MEMBERS)
            return T.ERROR
        if n in p.inputs:
            inp = p.inputs[n]
            self.refs[node.nid] = Ref("input", n)
            return self.input_type(inp)
        if n in p.params:
            self.refs[node.nid] = Ref("param", n)
            return Type(p.params[n].kind)
        if n in p.defines:
            self.refs[node.nid] = Ref("define", n)
            return self.define_types.get(n, T.ERROR)
        if n in ENTITY_ATTRIBUTES:
            self.refs[node.nid] = Ref("attr", n)
            return T.STRING
        # Bare words: a label of the expected scale, a level id, or a label of one scale.
        if expected is not None and expected.kind == "rating":
            for scale, i in self.labels.get(n, []):
                if scale == expected.scale:
                    self.refs[node.nid] = Ref("label", n, i)
                    return expected
            labels = p.scales[expected.scale].labels if expected.scale in p.scales else ()
            elsewhere = sorted({scale for scale, _ in self.labels.get(n, [])})
            if elsewhere:
                self.error(f"'{n}' is a label of the '{elsewhere[0]}' scale, not of the "
                           f"'{expected.scale}' scale ({', '.join(labels)})", node.pos,
                           scope.origin, code=codes.UNKNOWN_LABEL)
                return T.ERROR
            self.error(f"'{n}' is not a label of the '{expected.scale}' scale "
                       f"({', '.join(labels)}){did_you_mean(n, labels)}", node.pos,
                       scope.origin, code=codes.UNKNOWN_LABEL)
            return T.ERROR
        if n in self.level_ids and (expected is None or expected == T.LEVEL):
            self.refs[node.nid] = Ref("level", n, self.level_ids[n])
            return T.LEVEL
        if expected == T.LEVEL:
            self.error(f"'{n}' is not a level of this policy ({', '.join(self.level_ids)})"
                       f"{did_you_mean(n, self.level_ids)}", node.pos, scope.origin,
                       code=codes.UNKNOWN_LEVEL)
            return T.ERROR
        owners = self.labels.get(n, [])
        if len(owners) == 1:
            scale, i = owners[0]
            self.refs[node.nid] = Ref("label", n, i)
            return T.rating(scale)
        if len(owners) > 1:
            self.error(f"'{n}' is a label of several scales "
                       f"({', '.join(s for s, _ in owners)}); compare it with a rating",
                       node.pos, scope.origin, code=codes.AMBIGUOUS)
            return T.ERROR
        known = (list(p.inputs) + list(p.params) + list(p.defines) + list(ENTITY_ATTRIBUTES)
                 + list(self.level_ids) + list(self.labels))
        self.error(f"unknown name '{n}'{did_you_mean(n, known)}", node.pos, scope.origin,
                   code=codes.UNKNOWN_NAME)
        return T.ERROR

    def input_type(self, inp) -> Type:
        """An input's type; a rating whose scale is missing or unknown (already reported) is
        an error type, so its uses raise no follow-on errors."""
        if inp.type == "rating" and inp.scale not in self.policy.scales:
            return T.ERROR
        return T.of_input(inp.type, inp.scale)

    def not_level(self, node: ast.Node, scope: _Scope) -> Type:
        self.error("periods_in() takes a condition on 'level' only, such as "
                   "level >= segment_3", node.pos, scope.origin, code=codes.LEVEL)
        return T.ERROR

    def attribute(self, node: ast.Attribute, scope: _Scope) -> Type:
        if node.obj != "parent":
            self.error(f"'{node.obj}.{node.name}': only 'parent.' can be followed by a name",
                       node.pos, scope.origin, code=codes.UNKNOWN_NAME)
            return T.ERROR
        p = self.policy
        if node.name in p.inputs:
            inp = p.inputs[node.name]
            self.refs[node.nid] = Ref("input", node.name)
            return self.input_type(inp)
        if node.name in p.defines:
            self.refs[node.nid] = Ref("define", node.name)
            return self.define_types.get(node.name, T.ERROR)
        if node.name in ENTITY_ATTRIBUTES:
            self.refs[node.nid] = Ref("attr", node.name)
            return T.STRING
        known = list(p.inputs) + list(p.defines) + list(ENTITY_ATTRIBUTES)
        self.error(f"unknown name 'parent.{node.name}'{did_you_mean(node.name, known)}",
                   node.pos, scope.origin, code=codes.UNKNOWN_NAME)
        return T.ERROR

    def unary(self, node: ast.Unary, scope: _Scope) -> Type:
        t = self.expr(node.operand, scope)
        if node.op == "not":
            if t not in (T.BOOL, T.ERROR):
                self.error(f"'not' needs a true/false condition, but this is {T.describe(t)}",
                           node.operand.pos, scope.origin)
                return T.ERROR
            return T.BOOL
        if not t.numeric and t != T.ERROR:
            self.error(f"cannot negate {T.describe(t)}", node.operand.pos, scope.origin)
            return T.ERROR
        return t

    def binary(self, node: ast.Binary, scope: _Scope) -> Type:
        op = node.op
        if op in ("and", "or"):
            for side in (node.left, node.right):
                t = self.expr(side, scope)
                if t not in (T.BOOL, T.ERROR):
                    self.error(f"'{op}' needs true/false conditions on both sides, but this is "
                               f"{T.describe(t)}", side.pos, scope.origin)
            return T.BOOL
        left, right = self.operands(node.left, node.right, scope)
        if T.ERROR in (left, right):
            return T.BOOL if op in ("==", "!=", "<", "<=", ">", ">=") else T.ERROR
        if op in ("==", "!=", "<", "<=", ">", ">="):
            self.lint_fraction(node.left, left, node.right, right, scope)
            if not T.comparable(left, right):
                self.error(f"cannot compare {T.describe(left)} with {T.describe(right)}"
                           + self.compare_note(left, right),
                           node.pos, scope.origin, hint=self.compare_hint(node, left, right))
            elif op not in ("==", "!=") and not left.ordered:
                self.error(f"'{op}' needs ordered values; {T.describe(left)} can only be "
                           "tested with '==' or '!='", node.pos, scope.origin)
            return T.BOOL
        # arithmetic
        for side, t in ((node.left, left), (node.right, right)):
            if not t.numeric:
                what = "a flag" if t == T.BOOL else T.describe(t)
                self.error(f"'{op}' needs numbers, but this is {what}"
                           + (" (a flag is true/false, not a number)" if t == T.BOOL else ""),
                           side.pos, scope.origin)
                return T.ERROR
        if op in ("+", "-"):
            if not T.units_compatible(left, right):
                self.error(f"cannot {'add' if op == '+' else 'subtract'} {T.describe(right)} "
                           f"{'to' if op == '+' else 'from'} {T.describe(left)}", node.pos,
                           scope.origin)
                return T.ERROR
            return right if left.kind == "number" else left
        if op == "*":
            if left.kind == "number":
                return right
            return left if right.kind == "number" else T.NUMBER
        # division: a ratio of like quantities is a plain number
        if right.kind == "number":
            return left
        return T.NUMBER

    def lint_fraction(self, a: ast.Node, at: Type, b: ast.Node, bt: Type,
                      scope: _Scope) -> None:
        """Warn on a percentage compared with a bare number below 1.5: `ae_4hr_pct < 0.76`
        reads as under 0.76%, and is almost always 76% written as a fraction."""
        for pct, pt, other, ot in ((a, at, b, bt), (b, bt, a, at)):
            if pt != T.PERCENT or ot != T.NUMBER:
                continue
            value = self.bare_number(other)
            if value is None or not 0 < abs(value) < 1.5:
                continue
            what = pct.name if isinstance(pct, ast.Name) else "this value"
            shown, fix = f"{value:g}", "write"
            if isinstance(other, ast.Name):
                shown, fix = f"param '{other.name}' ({value:g})", f"give '{other.name}' as"
            self.report.add(f"{what} is a percentage (0-100), compared here with {shown}; did "
                            f"you mean {value * 100:g}%?", other.pos, source=scope.origin,
                            code=codes.PERCENT_SCALE, severity="warning",
                            hint=f"{fix} {value * 100:g}% for {value * 100:g} percent, or "
                                 f"{value:g}% if you mean less than one percent")

    def bare_number(self, node: ast.Node) -> float | None:
        """The value of a number written without a unit, directly or as a param's only value."""
        if isinstance(node, ast.Number) and node.unit == "number":
            return node.value
        ref = self.refs.get(node.nid)
        if isinstance(node, ast.Name) and ref is not None and ref.kind == "param":
            param = self.policy.params[ref.name]
            if param.kind == "number" and len(param.values) == 1:
                return param.values[0].value
        return None

    @staticmethod
    def compare_note(left: Type, right: Type) -> str:
        if T.BOOL in (left, right) and (left.numeric or right.numeric):
            return " (a flag is true/false, not a number)"
        return ""

    def compare_hint(self, node: ast.Binary, left: Type, right: Type) -> str | None:
        """For a label written as a string ('good'), the unquoted word that was meant."""
        for value, other in ((node.right, left), (node.left, right)):
            if isinstance(value, ast.String) and other.kind == "rating" and any(
                    s == other.scale for s, _ in self.labels.get(value.value, [])):
                return f"write the label without quotes: {value.value}"
            if isinstance(value, ast.String) and other == T.LEVEL and \
                    value.value in self.level_ids:
                return f"write the level without quotes: {value.value}"
        return None

    def operands(self, left: ast.Node, right: ast.Node, scope: _Scope) -> tuple[Type, Type]:
        """Type two sides that may compare: a bare label takes its scale from the other side."""
        if self.is_bare_word(left) and not self.is_bare_word(right):
            rt = self.expr(right, scope)
            return self.expr(left, scope, rt if rt.kind in ("rating", "level") else None), rt
        lt = self.expr(left, scope)
        return lt, self.expr(right, scope, lt if lt.kind in ("rating", "level") else None)

    def is_bare_word(self, node: ast.Node) -> bool:
        p = self.policy
        return (isinstance(node, ast.Name) and node.name not in p.inputs
                and node.name not in p.params and node.name not in p.defines
                and node.name not in ENTITY_ATTRIBUTES and node.name != "level")

    def in_(self, node: ast.In, scope: _Scope) -> Type:
        t = self.expr(node.operand, scope)
        hint = t if t.kind in ("rating", "level") else None
        if not node.items:
            self.error("'in' needs at least one value in the list", node.pos, scope.origin)
        for item in node.items:
            it = self.expr(item, scope, hint)
            if t != T.ERROR and it != T.ERROR and not T.comparable(t, it):
                self.error(f"cannot compare {T.describe(t)} with {T.describe(it)}", item.pos,
                           scope.origin)
        return T.BOOL

    def between(self, node: ast.Between, scope: _Scope) -> Type:
        t = self.expr(node.operand, scope)
        hint = t if t.kind in ("rating", "level") else None
        if t != T.ERROR and not t.ordered:
            self.error(f"'between' needs ordered values, but this is {T.describe(t)}",
                       node.operand.pos, scope.origin)
            t = T.ERROR   # already reported: no follow-on complaints about the bounds
        for bound in (node.low, node.high):
            bt = self.expr(bound, scope, hint)
            self.lint_fraction(node.operand, t, bound, bt, scope)
            if t != T.ERROR and bt != T.ERROR and not T.comparable(t, bt):
                self.error(f"cannot compare {T.describe(t)} with {T.describe(bt)}", bound.pos,
                           scope.origin)
        return T.BOOL

    def if_(self, node: ast.If, scope: _Scope) -> Type:
        c = self.expr(node.cond, scope)
        if c not in (T.BOOL, T.ERROR):
            self.error(f"the condition of 'if' must be true/false, but this is "
                       f"{T.describe(c)}", node.cond.pos, scope.origin)
        a, b = self.operands(node.then, node.else_, scope)
        joined = T.join(a, b)
        if joined is None:
            self.error(f"the branches of 'if' differ: {T.describe(a)} and {T.describe(b)}",
                       node.pos, scope.origin)
            return T.ERROR
        return joined

    # --- nesting through defines ---------------------------------------------------------------

    def check_nesting(self, order: list[str]) -> None:
        """Refuse expressions nested deeper than MAX_NESTING once their defines are counted in,
        reporting the first define (dependencies first) or rule that passes the limit, and not
        again what is built on it."""
        p = self.policy
        depth_of: dict[str, int | None] = {}   # None: too deep, already reported
        for name in order:
            d = p.defines[name]
            if d.expr is not None:
                depth_of[name] = self.nesting(f"define '{name}'", d.expr, d.pos, d.origin,
                                              depth_of)
        items = [(f"rule '{r.id}'", r.when, r.origin) for r in p.rules]
        if p.applies_to is not None:
            items.append(("applies_to", p.applies_to.expr, p.applies_to.origin))
        for what, node, origin in items:
            if node is not None:
                self.nesting(what, node, node.pos, origin, depth_of)

    def nesting(self, what: str, root: ast.Node, pos: Pos | None, origin: Source,
                depth_of: Mapping[str, int | None]) -> int | None:
        """The depth of `root` with each define it names counted as written out in place;
        past the limit, an error and None."""
        depth: dict[int, int] = {}
        stack: list[tuple[ast.Node, bool]] = [(root, False)]
        while stack:
            node, ready = stack.pop()
            if not ready:
                stack.append((node, True))
                stack.extend((c, False) for c in node.children())
                continue
            ref = self.refs.get(node.nid)
            below = max((depth[c.nid] for c in node.children()), default=0)
            if ref is not None and ref.kind == "define":
                used = depth_of.get(ref.name, 0)
                if used is None:
                    return None
                below = used
            depth[node.nid] = 1 + below
        if depth[root.nid] <= MAX_NESTING:
            return depth[root.nid]
        self.error(f"{what} is nested too deeply: counting the defines it uses, it is "
                   f"{depth[root.nid]:,} levels deep (the limit is {MAX_NESTING})", pos, origin,
                   code=codes.TOO_DEEP, hint="build it on fewer defines, each used by the next")
        return None

def _article(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _period_key(text: str, kind: str | None):
    try:
        return parse_period(text, kind).ordinal
    except PeriodError:
        return 0
