"""The code generator: one numba function per policy, from its plan.

The kernel loops over periods; in each period it runs the plan's stages (fused loops over
entities, `prange` when parallel) with library kernels between them, then combines the rules'
values into levels and writes the outcome arrays. The source never contains text from the
policy file: identifiers are the compiler's own (`v12`, `x3`, `m7`), numbers are formatted
from parsed floats, strings become integer codes passed in as data, and policy names appear
only in the argument spec, which is data, not code.

A built-in function's lines come from its registry entry's emitter (lang/builtins/), which
calls this generator's helpers (`var`, `past`, `column`, `grouping`, ...; spec.py lists
them) and the library's numba functions by name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..lang import ast
from ..lang import types as T
from ..lang.builtins import BUILTINS, peer_grouping
from ..check.checker import CheckedPolicy
from ..policy.model import ENTITY_ATTRIBUTES
from ..engine.outcomes import n_bytes
from .plan import Plan, Value

COMPARE = {"==": "lib.eq", "!=": "lib.ne", "<": "lib.lt", "<=": "lib.le", ">": "lib.gt",
           ">=": "lib.ge"}
INLINE_COMBINE_MAX = 64   # rules folded by lib.fold (one int64 word of bits); more: lib.combine


@dataclass(frozen=True)
class Generated:
    source: str
    args: tuple[tuple[str, str], ...]   # (role, name) per kernel argument, in order
    strings: tuple[str, ...]            # string literals, by code index (passed as data)
    history: tuple[tuple[int, str, int], ...]  # (value nid, "param"|"const", param index or n)


def number(value: float) -> str:
    """A float as Python source (never text from the policy)."""
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "np.inf" if value > 0 else "-np.inf"
    return repr(value)


class _Gen:
    def __init__(self, checked: CheckedPolicy, plan: Plan, parallel: bool) -> None:
        self.c = checked
        self.p = checked.policy
        self.plan = plan
        self.parallel = parallel
        self.inputs = sorted({checked.refs[v.node.nid].name for v in plan.values.values()
                              if isinstance(v.node, (ast.Name, ast.Attribute))
                              and checked.refs.get(v.node.nid) is not None
                              and checked.refs[v.node.nid].kind == "input"})
        self.params = list(self.p.params)
        self.groupings: list[str] = []
        self.strings: list[str] = []
        self.history: list[tuple[int, str, int]] = []     # ring sizes, resolved at run time
        self.ring_index: dict[int, int] = {}
        self.lines: list[str] = []
        self.loaded: set[int] = set()
        self.windows = 0
        self.latches: list[int] = []           # windows keeping last-seen periods per entity
        self.attrs: set[int] = set()           # entity attributes the kernel reads
        self.parent_attrs: set[int] = set()
        self.uses_lineage = False              # follow=successor: the stand-ins' arrays
        self.uses_alive = False                # members(...): who exists in each period

    # --- names ------------------------------------------------------------------------------

    def x(self, name: str) -> str:
        return f"x{self.inputs.index(name)}"

    def prm(self, name: str) -> str:
        return f"prm[{self.params.index(name)}, t]"

    def grouping(self, node: ast.Call) -> str:
        """A peer function's groups, as the kernel's (pointer, index) argument names."""
        by = peer_grouping(node, self.p)
        if by not in self.groupings:
            self.groupings.append(by)
        k = self.groupings.index(by)
        return f"gp{k}, gi{k}"

    def string_code(self, text: str) -> str:
        if text not in self.strings:
            self.strings.append(text)
        return f"strc[{self.strings.index(text)}]"

    def emit(self, line: str, indent: int) -> None:
        self.lines.append("    " * indent + line)

    # --- reading values ---------------------------------------------------------------------

    def resolve(self, node: ast.Node) -> ast.Node:
        """The node whose value stands for `node`: through define names, then to the one
        computed copy of an expression written several times."""
        while isinstance(node, ast.Name):
            ref = self.c.refs.get(node.nid)
            if ref is None or ref.kind != "define":
                break
            node = self.p.defines[ref.name].expr
        canonical = self.plan.canonical(node.nid)
        value = self.plan.values.get(canonical)
        return value.node if value is not None else node

    def var(self, node: ast.Node) -> str:
        return f"v{self.resolve(node).nid}"

    def past(self, node: ast.Node, when: str) -> str:
        """The value of `node` at period `when` (an expression known to be >= 0)."""
        node = self.resolve(node)
        ref = self.c.refs.get(node.nid)
        if isinstance(node, ast.Name) and ref is not None and ref.kind == "input":
            return f"{self.x(ref.name)}[{when}, e]"
        if isinstance(node, ast.Name) and ref is not None and ref.kind == "param":
            return f"prm[{self.params.index(ref.name)}, {when}]"
        j = self.ring_index[node.nid]
        return f"h{node.nid}[({when}) & q{j}, e]"

    def window_size(self, node: ast.Node) -> str:
        if isinstance(node, ast.Number):
            return str(int(node.value))
        return f"int(prm[{self.params.index(node.name)}, t])"

    # --- expressions ------------------------------------------------------------------------

    def expression(self, v: Value, indent: int) -> None:
        """Emit statements computing v's node into its variable `v<nid>`."""
        node = v.node
        out = f"v{node.nid}"
        emit = lambda s: self.emit(s, indent)  # noqa: E731
        if isinstance(node, ast.Number):
            emit(f"{out} = {number(node.value)}")
        elif isinstance(node, ast.Bool):
            emit(f"{out} = {'1.0' if node.value else '0.0'}")
        elif isinstance(node, ast.String):
            emit(f"{out} = {self.string_code(node.value)}")
        elif isinstance(node, ast.Name):
            emit(f"{out} = {self.name(node)}")
        elif isinstance(node, ast.Attribute):
            ref = self.c.refs[node.nid]
            if ref.kind == "input":
                xs = self.x(ref.name)
                emit(f"{out} = {xs}[t, par[e]] if par[e] >= 0 else nan")
            elif ref.kind == "attr":
                i = ENTITY_ATTRIBUTES.index(ref.name)
                self.parent_attrs.add(i)
                emit(f"{out} = pat{i}[e]")
            else:  # a define of the parent: computed by take_parent before this loop
                emit(f"{out} = m{node.nid}[e]")
        elif isinstance(node, ast.Unary):
            a = self.var(node.operand)
            emit(f"{out} = lib.k_not({a})" if node.op == "not" else f"{out} = -{a}")
        elif isinstance(node, ast.Binary):
            a, b = self.var(node.left), self.var(node.right)
            op = node.op
            if op == "and":
                emit(f"{out} = lib.k_and({a}, {b})")
            elif op == "or":
                emit(f"{out} = lib.k_or({a}, {b})")
            elif op in COMPARE:
                emit(f"{out} = {COMPARE[op]}({a}, {b})")
            elif op == "/":
                emit(f"{out} = lib.div({a}, {b})")
            else:
                emit(f"{out} = {a} {op} {b}")
        elif isinstance(node, ast.In):
            a = self.var(node.operand)
            emit(f"{out} = 0.0")
            for item in node.items:
                emit(f"{out} = lib.k_or({out}, lib.eq({a}, {self.var(item)}))")
            if node.negated:
                emit(f"{out} = lib.k_not({out})")
        elif isinstance(node, ast.Between):
            a, lo, hi = self.var(node.operand), self.var(node.low), self.var(node.high)
            emit(f"{out} = lib.k_and(lib.ge({a}, {lo}), lib.le({a}, {hi}))")
        elif isinstance(node, ast.If):
            emit(f"{out} = lib.if_({self.var(node.cond)}, {self.var(node.then)}, "
                 f"{self.var(node.else_)})")
        elif isinstance(node, ast.Lag):
            emit(f"{out} = {self.past(node.operand, f't - {node.n}')} if t >= {node.n} else nan")
        elif isinstance(node, ast.Call):
            self.call(node, out, indent)
        else:  # pragma: no cover
            raise AssertionError(type(node).__name__)

    def name(self, node: ast.Name) -> str:
        ref = self.c.refs[node.nid]
        if ref.kind == "input":
            return f"{self.x(ref.name)}[t, e]"
        if ref.kind == "param":
            return self.prm(ref.name)
        if ref.kind == "attr":
            i = ENTITY_ATTRIBUTES.index(ref.name)
            self.attrs.add(i)
            return f"at{i}[e]"
        if ref.kind in ("label", "level"):
            return number(ref.index)
        raise AssertionError(ref.kind)

    def call(self, node: ast.Call, out: str, indent: int) -> None:
        spec = BUILTINS[node.func]
        if spec.cross:      # computed between the loops (cross()); here it is loaded
            self.emit(f"{out} = m{node.nid}[e]", indent)
            return
        spec.compiled(self, node, out, lambda s, d=0: self.emit(s, indent + d))

    # --- helpers for the built-ins' emitters (lang/builtins/spec.py) ------------------------

    def fresh(self) -> int:
        """A number for the local variables of one emitted built-in."""
        self.windows += 1
        return self.windows

    number = staticmethod(number)

    def lower(self, node: ast.Call) -> bool:
        """Whether lower is better for the value a peer function ranks."""
        return self.c.directions.get(node.nid) == "lower"

    def is_param(self, node: ast.Node) -> bool:
        node = self.resolve(node)
        ref = self.c.refs.get(node.nid)
        return isinstance(node, ast.Name) and ref is not None and ref.kind == "param"

    def window_source(self, node: ast.Node) -> tuple[str, str]:
        """A value's past as (array, mask) for lib.window: an input's own array (mask -1) or
        the ring buffer the kernel keeps of a computed value."""
        node = self.resolve(node)
        ref = self.c.refs.get(node.nid)
        if isinstance(node, ast.Name) and ref is not None and ref.kind == "input":
            return self.x(ref.name), "-1"
        return f"h{node.nid}", f"q{self.ring_index[node.nid]}"

    def latch(self, node: ast.Call) -> tuple[str, str]:
        """Per-entity state of a window kept as the last period its operand was decisive and
        the last it was unknown (declared once the kernel's body is known)."""
        self.latches.append(node.nid)
        return f"ld{node.nid}", f"lu{node.nid}"

    def followed(self, node: ast.Node, when: str) -> str:
        """The value of `node` at period `when` (>= 0, before t) as the entity's stand-ins
        agree on it (follow=successor); a param is the same for every stand-in."""
        if self.is_param(node):
            return self.past(node, when)
        self.uses_lineage = True
        history, mask = self.window_source(node)
        return f"lib.follow({history}, {mask}, {when}, e, lp, li, la)"

    def followed_level(self, when: str) -> str:
        """The worst level at period `when` (>= 0, before t) among the entity's stand-ins."""
        self.uses_lineage = True
        return f"lib.follow_level(out_level, {when}, e, lp, li, la)"

    def alive(self) -> str:
        """This period's row of who exists (the entities' lifetimes)."""
        self.uses_alive = True
        return "alive[t]"

    def level_test(self, node: ast.Node, level: str, emit) -> str:
        """Emit a condition on levels (periods_in's) over the level in variable `level`;
        return the variable holding its truth."""
        self.windows += 1
        return self.level_condition(node, 0, f"l{self.windows}", emit=emit, level=level)

    def level_counter(self, node: ast.Call) -> int:
        """The index of a count the kernel keeps up as it decides each period's level."""
        return self.plan.level_counters.index(node)

    # --- cross-section values ---------------------------------------------------------------

    def column(self, node: ast.Node) -> str:
        """A value for all entities in this period, as an array a library kernel can read:
        an input's row of data as it stands, anything else as its materialised array."""
        node = self.resolve(node)
        ref = self.c.refs.get(node.nid)
        if isinstance(node, ast.Name) and ref is not None and ref.kind == "input":
            return f"{self.x(ref.name)}[t]"
        return f"m{node.nid}"

    def cross(self, v: Value, indent: int) -> None:
        node = v.node
        out = f"m{node.nid}"
        emit = lambda s: self.emit(s, indent)  # noqa: E731
        if isinstance(node, ast.Attribute):
            dep = self.p.defines[self.c.refs[node.nid].name].expr
            # without a parent a string is "" (code 0), as `parent.type` is; a value is unknown
            fill = "0.0" if self.c.types.get(node.nid) == T.STRING else "nan"
            emit(f"lib.take_parent({self.column(dep)}, par, {fill}, {out})")
            return
        BUILTINS[node.func].compiled(self, node, out, lambda s, d=0: self.emit(s, indent + d))

    def rank_task(self, v: Value) -> tuple[str, str] | None:
        """For a value a parallel kernel splits by peer group: its groups' pointer array and
        the call that computes peer group `g`. None for any other cross-section value."""
        node = v.node
        spec = BUILTINS.get(node.func) if isinstance(node, ast.Call) else None
        if spec is None or spec.task is None:
            return None
        return spec.task(self, node)

    def rank_tasks(self, values: list[Value], indent: int) -> None:
        """A stage's ranks as one parallel loop over (rank, peer group) tasks, as a hand-written
        kernel would run them: one rank's groups alone are too few, and too unequal in size
        (acute trusts against ambulance trusts), to keep every thread busy."""
        tasks = [self.rank_task(v) for v in values]
        ptrs = sorted({ptr for ptr, _ in tasks})
        sizes = ", ".join(f"{ptr}.size" for ptr in ptrs)
        self.emit(f"ng = {sizes if len(ptrs) == 1 else f'max({sizes})'} - 1", indent)
        self.emit(f"for task in prange({len(tasks)} * ng):", indent)
        self.emit("j = task // ng", indent + 1)
        self.emit("g = task - j * ng", indent + 1)
        for j, (_, call) in enumerate(tasks):
            self.emit(f"{'if' if j == 0 else 'elif'} j == {j}:", indent + 1)
            self.emit(call, indent + 2)

    # --- the kernel -------------------------------------------------------------------------

    def generate(self) -> Generated:
        plan = self.plan
        for nid, v in plan.values.items():
            if v.history and not self.direct_history(v.node):
                self.ring_index[nid] = len(self.history)
                self.history.append((nid, "ring", 0))
        loop = "prange" if self.parallel else "range"
        body: list[str] = []
        self.lines = body
        I1, I2, I3 = 1, 2, 3
        self.emit("P = out_level.shape[0]", I1)
        self.emit("E = out_level.shape[1]", I1)
        self.emit("nan = np.nan", I1)
        for nid, v in plan.values.items():
            if v.materialize or v.cross:
                self.emit(f"m{nid} = np.full(E, nan)", I1)
        for nid, j in self.ring_index.items():
            # ring sizes are powers of two: a period's slot is t & (size - 1), not t % size
            self.emit(f"q{j} = rings[{j}] - 1", I1)
            self.emit(f"h{nid} = np.full((rings[{j}], E), nan)", I1)
        for j in range(len(plan.level_counters)):
            self.emit(f"st{j} = np.zeros(E)", I1)
        if self.inline_combine:
            self.combine_constants(I1)
        else:
            self.emit(f"rv = np.empty((E, {max(1, len(self.p.rules))}))", I1)
        latch_at = len(body)        # their state arrays are declared once the body is known
        self.emit("for t in range(P):", I1)
        for s in range(plan.n_stages):
            crosses = list(plan.cross_values(s))
            if self.parallel:
                tasks = [v for v in crosses if self.rank_task(v) is not None]
                if tasks:
                    self.rank_tasks(tasks, I2)
                crosses = [v for v in crosses if v not in tasks]
            for v in crosses:
                self.cross(v, I2)
            outer, self.lines = self.lines, []
            self.stage_loop(s, I3, final=(s == plan.n_stages - 1))
            inner, self.lines = self.lines, outer
            if inner:               # a stage may hold only values moved to a later loop
                self.emit(f"for e in {loop}(E):", I2)
                self.lines.extend(inner)
        body[latch_at:latch_at] = [
            f"    {name}{nid} = np.full(E, -(1 << 40))"   # "never", long before any window
            for nid in self.latches for name in ("ld", "lu")]
        header = self.header()
        source = "\n".join(header + body) + "\n"
        return Generated(source, tuple(self.args), tuple(self.strings), tuple(self.history))

    def direct_history(self, node: ast.Node) -> bool:
        ref = self.c.refs.get(node.nid)
        return isinstance(node, ast.Name) and ref is not None and ref.kind in ("input", "param")

    def stage_loop(self, s: int, indent: int, final: bool) -> None:
        plan = self.plan
        emitted: set[int] = set()

        def ensure(d: int) -> None:
            """Make value d available in this loop: load it, or re-read a leaf."""
            if d in emitted:
                return
            dv = plan.values[d]
            emitted.add(d)
            if dv.leaf and not dv.cross:
                self.expression(dv, indent)
            else:
                self.emit(f"v{d} = m{d}[e]", indent)
                if dv.cross and d in self.ring_index:
                    self.emit(f"h{d}[t & q{self.ring_index[d]}, e] = v{d}", indent)

        for v in plan.cross_values(s):
            if v.node.nid in self.ring_index:
                ensure(v.node.nid)
        for v in plan.stage_values(s):
            nid = v.node.nid
            if v.leaf and not (v.materialize or nid in self.ring_index):
                continue            # emitted on demand
            for d in v.deps:
                ensure(d)
            if nid in emitted:
                continue
            self.expression(v, indent)
            emitted.add(nid)
            if v.materialize:
                self.emit(f"m{nid}[e] = v{nid}", indent)
            if nid in self.ring_index:
                self.emit(f"h{nid}[t & q{self.ring_index[nid]}, e] = v{nid}", indent)
        if final:
            for nid in plan.rule_roots + ([plan.applies_root] if plan.applies_root else []):
                ensure(nid)
            self.combine(indent)

    def combine(self, indent: int) -> None:
        """Rules' values -> computed level, candidate, incomplete, bits; then decisions."""
        p = self.p
        emit = lambda s, d=0: self.emit(s, indent + d)  # noqa: E731
        default = next(lv.index for lv in p.levels if lv.id == p.default)
        if self.inline_combine:
            self.combine_inline(default, indent)
        else:
            # the rules' values go to a row of scratch; the library folds them into a level
            for i, nid in enumerate(self.plan.rule_roots):
                emit(f"rv[e, {i}] = v{nid}")
            first = "True" if p.decide == "first" else "False"
            emit(f"comp, inc, cand = lib.combine(rv, e, rule_levels, rule_judged, {default}, "
                 f"{first}, out_fired, out_unknown, t)")
        emit("d = decisions[t, e] if has_dec else nan")
        emit("final = comp if d != d else int(d)")
        emit("out_computed[t, e] = comp")
        emit("out_level[t, e] = final")
        emit("out_candidate[t, e] = cand")
        emit("out_incomplete[t, e] = inc")
        if self.plan.applies_root is not None:
            a = self.plan.applies_root
            emit(f"out_subject[t, e] = kind_subject[t, e] and v{a} == 1.0")
        else:
            emit("out_subject[t, e] = kind_subject[t, e]")
        for j, node in enumerate(self.plan.level_counters):
            emit("lv = float(final)")
            var = self.level_condition(node.args[0], indent, j)
            emit(f"st{j}[e] = st{j}[e] + 1.0 if {var} == 1.0 else 0.0")

    @property
    def inline_combine(self) -> bool:
        """`worst` (and `collect`) with at most 64 rules (one int64 word of bits): the rules'
        values go to lib.fold as a tuple, folded without branches on the data (lib.combine,
        a call per cell with a scratch row and data-dependent branches, cost ten times the
        rules themselves on a small policy). Longer policies, and `first`, call lib.combine."""
        return self.p.decide != "first" and 0 < len(self.p.rules) <= INLINE_COMBINE_MAX

    def combine_inline(self, default: int, indent: int) -> None:
        """The same fold as lib.combine (and the reference's combine()), by lib.fold: the
        worst fired normal rule's level or the default; the worst fired judgement rule's
        level as the candidate when worse; incomplete when an unknown normal rule's level is
        worse than the level, or an unknown judgement rule's level is worse than level and
        candidate."""
        emit = lambda s: self.emit(s, indent)  # noqa: E731
        roots = self.plan.rule_roots
        values = ", ".join(f"v{nid}" for nid in roots)
        emit(f"comp, cand, inc, fw, uw = lib.fold(({values},), rule_nl, rule_jl, {default})")
        # the words' bytes, in outcomes.rule_bits' layout (one byte a cell up to eight rules)
        for k in range(n_bytes(len(roots))):
            shifted = ("fw", "uw") if k == 0 else (f"(fw >> {8 * k})", f"(uw >> {8 * k})")
            emit(f"out_fired[t, e, {k}] = {shifted[0]} & 255")
            emit(f"out_unknown[t, e, {k}] = {shifted[1]} & 255")

    def combine_constants(self, indent: int) -> None:
        """The inline fold's per-rule levels, found once before the loops: each rule's level
        where it is a normal rule (`rule_nl`), or a judgement rule (`rule_jl`), else -1."""
        self.emit("rule_nl = np.where(rule_judged, -1, rule_levels)", indent)
        self.emit("rule_jl = np.where(rule_judged, rule_levels, -1)", indent)

    def level_condition(self, node: ast.Node, indent: int, j, emit=None,
                        level: str = "lv") -> str:
        """Emit a level counter's condition over `level` (by default `lv`, the level just
        decided), by `emit` (by default at `indent`); return its var."""
        counter = [0]
        put = emit if emit is not None else (lambda line: self.emit(line, indent))

        def go(n: ast.Node) -> str:
            counter[0] += 1
            out = f"q{j}_{counter[0]}"
            if isinstance(n, ast.Name):
                ref = self.c.refs[n.nid]
                put(f"{out} = {level}" if ref.kind == "level_var" else
                    f"{out} = {number(ref.index)}")
            elif isinstance(n, ast.Number):
                put(f"{out} = {number(n.value)}")
            elif isinstance(n, ast.Bool):
                put(f"{out} = {'1.0' if n.value else '0.0'}")
            elif isinstance(n, ast.Unary):
                a = go(n.operand)
                put(f"{out} = lib.k_not({a})" if n.op == "not" else f"{out} = -{a}")
            elif isinstance(n, ast.Binary):
                a, b = go(n.left), go(n.right)
                fn = {"and": "lib.k_and", "or": "lib.k_or", **COMPARE}[n.op]
                put(f"{out} = {fn}({a}, {b})")
            elif isinstance(n, ast.In):
                a = go(n.operand)
                put(f"{out} = 0.0")
                for item in n.items:
                    b = go(item)
                    put(f"{out} = lib.k_or({out}, lib.eq({a}, {b}))")
                if n.negated:
                    put(f"{out} = lib.k_not({out})")
            elif isinstance(n, ast.Between):
                a, lo, hi = go(n.operand), go(n.low), go(n.high)
                put(f"{out} = lib.k_and(lib.ge({a}, {lo}), lib.le({a}, {hi}))")
            else:  # pragma: no cover - the checker allows nothing else here
                raise AssertionError(type(n).__name__)
            return out

        return go(node)

    def header(self) -> list[str]:
        args: list[tuple[str, str]] = []
        names: list[str] = []
        for i, name in enumerate(self.inputs):
            args.append(("input", name))
            names.append(f"x{i}")
        fixed = [("params", "prm"), ("parent", "par"), ("children_ptr", "cp"),
                 ("children_idx", "ci"), ("strings", "strc"), ("rings", "rings"),
                 ("kind_subject", "kind_subject"), ("decisions", "decisions"),
                 ("has_decisions", "has_dec"),
                 ("rule_levels", "rule_levels"), ("rule_judged", "rule_judged")]
        for role, var in fixed:
            args.append((role, ""))
            names.append(var)
        for i, attr in enumerate(ENTITY_ATTRIBUTES):
            if i in self.attrs:
                args.append(("attr", attr))
                names.append(f"at{i}")
            if i in self.parent_attrs:
                args.append(("parent_attr", attr))
                names.append(f"pat{i}")
        if self.uses_lineage:
            for role, var in (("lineage_ptr", "lp"), ("lineage_idx", "li"),
                              ("lineage_active", "la")):
                args.append((role, ""))
                names.append(var)
        if self.uses_alive:
            args.append(("alive", ""))
            names.append("alive")
        for k, by in enumerate(self.groupings):
            args.append(("group_ptr", by))
            names.append(f"gp{k}")
            args.append(("group_idx", by))
            names.append(f"gi{k}")
        for out in ("computed", "level", "candidate", "fired", "unknown", "incomplete",
                    "subject"):
            args.append(("out", out))
            names.append(f"out_{out}")
        self.args = args
        parallel = "True" if self.parallel else "False"
        return [
            "# Generated by regime's compiler. Identifiers are the compiler's own; nothing",
            "# here is text from a policy file.",
            "import numpy as np",
            "from numba import njit, prange",
            "from rulesengine.compile import library as lib",
            "",
            "",
            f"@njit(cache=True, nogil=True, parallel={parallel}, error_model='numpy')",
            f"def kernel({', '.join(names)}):",
        ]


def generate(checked: CheckedPolicy, plan: Plan, *, parallel: bool = False) -> Generated:
    """Generate the kernel source for a planned policy."""
    return _Gen(checked, plan, parallel).generate()
