"""The checker's lints (warnings, never errors): inputs, params and defines no rule uses,
levels no rule can reach, rules another rule always shadows; and `canonical`, an expression's
text independent of layout, by which the shadowing lint compares conditions."""

from __future__ import annotations

from .. import codes
from ..lang import ast


class Lints:
    """Lints: a mixin of the checker (check/checker.py), which provides `policy`, `refs`,
    `warn`, `level_ids` and the memo tables."""

    def lint(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        p = self.policy
        roots = [r.when for r in p.rules if r.when is not None]
        if p.applies_to is not None and p.applies_to.expr is not None:
            roots.append(p.applies_to.expr)
        used: set[tuple[str, str]] = set()
        seen_defines: set[str] = set()
        stack = list(roots)
        while stack:
            root = stack.pop()
            for n in ast.walk(root):
                ref = self.refs.get(n.nid)
                if ref is None or ref.kind not in ("input", "param", "define"):
                    continue
                used.add((ref.kind, ref.name))
                if ref.kind == "define" and ref.name not in seen_defines:
                    seen_defines.add(ref.name)
                    d = p.defines[ref.name]
                    if d.expr is not None:
                        stack.append(d.expr)
        for kind, table in (("input", p.inputs), ("param", p.params), ("define", p.defines)):
            for name, item in table.items():
                if (kind, name) not in used:
                    self.warn(f"{kind} '{name}' is never used by a rule", item.pos, item.origin,
                              code=codes.UNUSED)

        reached = {r.level for r in p.rules}
        for lv in p.levels:
            if lv.id != p.default and lv.id not in reached and not lv.decided_by:
                self.warn(f"no rule can reach level '{lv.id}'", lv.pos, lv.origin,
                          code=codes.UNREACHABLE_LEVEL)
        self.lint_shadowing()
        used_inputs = tuple(n for n in p.inputs if ("input", n) in used)
        used_params = tuple(n for n in p.params if ("param", n) in used)
        return used_inputs, used_params

    def lint_shadowing(self) -> None:
        p = self.policy
        if p.decide == "collect":
            return
        rules = [r for r in p.rules if r.when is not None and r.level in self.level_ids]
        conj = [self.conjuncts(r.when) for r in rules]
        # Rule s implies rule r when one of s's disjuncts is a subset of r's conjuncts. Index
        # the disjuncts by their smallest conjunct, so that a policy with thousands of rules
        # is linted without comparing every pair.
        buckets: dict[str, list[tuple[int, frozenset[str]]]] = {}
        for j, s in enumerate(rules):
            for d in self.disjuncts(s.when):
                if d:
                    buckets.setdefault(min(d), []).append((j, d))
        for i, r in enumerate(rules):
            if isinstance(r.when, ast.Bool) and not r.when.value:
                self.warn(f"rule '{r.id}' can never fire: its condition is false", r.pos,
                          r.origin, code=codes.SHADOWED)
                continue
            implied_by = sorted({j for e in conj[i] for j, d in buckets.get(e, ())
                                 if j != i and d <= conj[i]})
            for j in implied_by:
                s = rules[j]
                if p.decide == "worst" and self.level_ids[s.level] > self.level_ids[r.level]:
                    self.warn(f"rule '{r.id}' can never change the outcome: whenever it fires, "
                              f"rule '{s.id}' fires too, with the worse level '{s.level}'",
                              r.pos, r.origin, code=codes.SHADOWED)
                    break
                if p.decide == "first" and j < i:
                    self.warn(f"rule '{r.id}' can never change the outcome: whenever it fires, "
                              f"the earlier rule '{s.id}' fires first", r.pos, r.origin,
                              code=codes.SHADOWED)
                    break

    def expand(self, node: ast.Node) -> ast.Node:
        """The expression a name stands for, following defines that are mere aliases."""
        seen = set()
        while isinstance(node, ast.Name) and node.name in self.policy.defines \
                and node.name not in seen and self.policy.defines[node.name].expr is not None:
            seen.add(node.name)
            node = self.policy.defines[node.name].expr
        return node

    def conjuncts(self, node: ast.Node) -> frozenset[str]:
        """The canonical texts of the terms joined by 'and' (through defines). Memoised by
        node, so a define used twice is expanded once: `c1: c0 and c0`, `c2: c1 and c1`, ...
        costs one visit per node, not one per path through the chain."""
        return self._flatten(node, "and", self.conj_memo,
                             lambda n: frozenset({self.canonical_of(n)}),
                             lambda parts: frozenset().union(*parts))

    def disjuncts(self, node: ast.Node) -> frozenset[frozenset[str]]:
        """The distinct conjunct sets of the terms joined by 'or' (through defines)."""
        return self._flatten(node, "or", self.disj_memo,
                             lambda n: frozenset({self.conjuncts(n)}),
                             lambda parts: frozenset().union(*parts))

    def _flatten(self, node: ast.Node, op: str, memo: dict, leaf, join):
        stack: list[tuple[ast.Node, bool]] = [(self.expand(node), False)]
        while stack:
            n, ready = stack.pop()
            if n.nid in memo:
                continue
            if not (isinstance(n, ast.Binary) and n.op == op):
                memo[n.nid] = leaf(n)
            elif ready:
                memo[n.nid] = join([memo[self.expand(n.left).nid],
                                    memo[self.expand(n.right).nid]])
            else:
                stack.append((n, True))
                stack += [(self.expand(n.right), False), (self.expand(n.left), False)]
        return memo[self.expand(node).nid]

    def canonical_of(self, node: ast.Node) -> str:
        text = self.canonical_text.get(node.nid)
        if text is None:
            text = self.canonical_text[node.nid] = canonical(node)
        return text


def canonical(node: ast.Node) -> str:
    """The expression as text, independent of spacing and positions (for structural compares
    and content hashes)."""
    parts: list[str] = []
    stack: list[object] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            parts.append(item)
            continue
        n = item
        if isinstance(n, ast.Number):
            parts.append(f"{n.value!r}{'%' if n.unit == 'percent' else ''}"
                         f"{'£' if n.unit == 'money' else ''}")
        elif isinstance(n, ast.Bool):
            parts.append("true" if n.value else "false")
        elif isinstance(n, ast.String):
            parts.append(repr(n.value))
        elif isinstance(n, ast.Name):
            parts.append(n.name)
        elif isinstance(n, ast.Attribute):
            parts.append(f"{n.obj}.{n.name}")
        elif isinstance(n, ast.Unary):
            stack += [")", n.operand, f"({n.op} "]
        elif isinstance(n, ast.Binary):
            stack += [")", n.right, f" {n.op} ", n.left, "("]
        elif isinstance(n, ast.In):
            items: list[object] = []
            for k, it in enumerate(n.items):
                items += ([", "] if k else []) + [it]
            stack += ["])"] + items[::-1] + [" not in [" if n.negated else " in [", n.operand,
                                               "("]
        elif isinstance(n, ast.Between):
            stack += [")", n.high, " and ", n.low, " between ", n.operand, "("]
        elif isinstance(n, ast.If):
            stack += [")", n.else_, " else ", n.then, " then ", n.cond, "(if "]
        elif isinstance(n, ast.Lag):
            stack += [f"[-{n.n}]", n.operand]
        elif isinstance(n, ast.Call):
            args: list[object] = []
            for k, a in enumerate(n.args):
                args += ([", "] if k else []) + [a]
            for kw in n.kwargs:
                args += [", ", f"{kw.name}=", kw.value]
            stack += [")"] + args[::-1] + [f"{n.func}("]
    return "".join(parts)
