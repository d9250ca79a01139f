"""The checker's rules for calls of built-in functions: arity, argument kinds, keyword
arguments, window sizes, the result's type and which way is better (`better:`) for a value.
What each function accepts and returns is its registry entry (lang/builtins/); this mixin of
the checker applies the entries."""

from __future__ import annotations

import math

from .. import codes
from ..diagnostics import Pos, did_you_mean
from ..policy.model import ENTITY_ATTRIBUTES
from ..lang import ast
from ..lang import types as T
from ..lang.builtins import BUILTINS, MAX_LOOKBACK, Builtin
from .scope import Ref, Scope
from ..lang.types import Type


class CallChecks:
    """Checking calls: a mixin of the checker (check/checker.py), which provides `expr`,
    `error`, `not_level`, `policy`, `refs`, `types`, `directions` and `define_dirs`."""

    def call(self, node: ast.Call, scope: Scope) -> Type:
        spec = BUILTINS.get(node.func)
        if spec is None:
            p = self.policy
            kind = ("an input" if node.func in p.inputs else "a param" if node.func in p.params
                    else "a define" if node.func in p.defines else None)
            what = (f"'{node.func}' is {kind}, not a function" if kind else
                    f"unknown function '{node.func}'{did_you_mean(node.func, BUILTINS)}")
            self.error(what,
                       Pos(node.func_pos.line, node.func_pos.col,
                           node.func_pos.col + len(node.func)), scope.origin,
                       code=codes.UNKNOWN_FUNCTION)
            for a in node.args:
                self.expr(a, scope)
            return T.ERROR
        if scope.level_only:
            return self.not_level(node, scope)
        for kw in node.kwargs:
            if kw.name not in spec.kwargs:
                allowed = f" (it takes {', '.join(k + '=' for k in spec.kwargs)})" if spec.kwargs \
                    else ""
                hint = ""
                if kw.name == "follow":     # say which functions do take it
                    takers = [b.name + "()" for b in BUILTINS.values() if "follow" in b.kwargs]
                    hint = "; follow= is taken by " + ", ".join(takers)
                self.error(f"{spec.name}() has no argument '{kw.name}'{allowed}"
                           f"{did_you_mean(kw.name, spec.kwargs)}{hint}", kw.pos, scope.origin,
                           code=codes.ARGUMENTS)
        n_params = len(spec.params)
        count = len(node.args)
        if (spec.variadic and count < 1) or (not spec.variadic and count != n_params):
            want = "one or more arguments" if spec.variadic else (
                f"{n_params} argument{'s' if n_params != 1 else ''}")
            usage = spec.usage()
            self.error(f"{spec.name}() takes {want}, got {count}: {usage}", node.pos,
                       scope.origin, code=codes.ARGUMENTS)
            for a in node.args:
                if not (isinstance(a, ast.Name) and a.name in ("members", "level")):
                    self.expr(a, scope)
            return T.ERROR
        kinds = spec.params if not spec.variadic else spec.params * count
        arg_types: list[Type] = []
        for kind, arg in zip(kinds, node.args):
            arg_types.append(self.argument(spec, kind, arg, scope))
        self.keyword_args(spec, node, arg_types, scope)
        if spec.orients(node):
            self.direction_for(spec, node, scope)
        return self.result(spec, node, arg_types, scope)


    def argument(self, spec: Builtin, kind: str, arg: ast.Node, scope: Scope) -> Type:
        origin = scope.origin
        if kind == "members":
            if isinstance(arg, ast.Name) and arg.name == "members":
                self.refs[arg.nid] = Ref("members", "members")
                self.types[arg.nid] = T.ERROR
                return T.ERROR
            self.error(f"{spec.name}() works over an entity's members: write "
                       f"{spec.usage()}" + (f"; for the {spec.name} of several values use "
                                                f"{spec.name}_of(...)" if spec.name in
                                                ("min", "max", "sum") else ""),
                       arg.pos, origin, code=codes.ARGUMENTS)
            return T.ERROR
        if kind == "level":
            if isinstance(arg, ast.Name) and arg.name == "level":
                self.refs[arg.nid] = Ref("level_var", "level")
                self.types[arg.nid] = T.LEVEL
                return T.LEVEL
            self.error(f"{spec.name}() takes the word 'level': write {spec.name}(level)",
                       arg.pos, origin, code=codes.ARGUMENTS)
            return T.ERROR
        if kind == "levelcond":
            return self.expect(spec, arg, Scope(origin, level_var=True, level_only=True),
                               "cond")
        if kind in ("window", "int"):
            return self.whole_number(spec, arg, scope)
        if kind == "digits":
            t = self.expr(arg, scope)
            if not (isinstance(arg, ast.Number) and arg.unit == "number"
                    and arg.value == int(arg.value) and 0 <= arg.value <= 12):
                self.error(f"{spec.name}(): the number of decimal places must be a whole number "
                           "from 0 to 12", arg.pos, origin, code=codes.ARGUMENTS)
            return t
        if kind == "pct":
            t = self.expr(arg, scope)
            if t != T.ERROR and t.kind not in ("number", "percent"):
                self.error(f"{spec.name}(): p must be a number from 0 to 100, not "
                           f"{T.describe(t)}", arg.pos, origin)
            elif isinstance(arg, ast.Number) and not 0 <= arg.value <= 100:
                self.error(f"{spec.name}(): p must be from 0 to 100", arg.pos, origin)
            return t
        return self.expect(spec, arg, scope, kind)

    def expect(self, spec: Builtin, arg: ast.Node, scope: Scope, kind: str) -> Type:
        t = self.expr(arg, scope)
        if t == T.ERROR or kind == "any":
            return t
        ok = {"cond": t == T.BOOL, "num": t.numeric,
              "value": t.numeric or t.kind == "rating",
              "ordinal": t.kind in ("rating", "level")}[kind]
        if not ok:
            want = {"cond": "a true/false condition", "num": "a number",
                    "value": "a number or a rating", "ordinal": "a rating or a level"}[kind]
            extra = " (a flag is true/false, not a number)" if t == T.BOOL else ""
            self.error(f"{spec.name}() needs {want} here, but this is {T.describe(t)}{extra}",
                       arg.pos, scope.origin)
            return T.ERROR
        return t

    def whole_number(self, spec: Builtin, arg: ast.Node, scope: Scope) -> Type:
        t = self.expr(arg, scope)
        time = spec.lookback is not None
        what = "number of periods" if time else "number"
        most = MAX_LOOKBACK if time else math.inf
        if isinstance(arg, ast.Number):
            if arg.unit == "number" and arg.value == int(arg.value) and arg.value >= 1:
                if arg.value <= most:
                    return t
                self.error(f"{spec.name}(): a window reaches back at most {most} periods",
                           arg.pos, scope.origin, code=codes.ARGUMENTS)
                return T.ERROR
        elif isinstance(arg, ast.Name) and self.refs.get(arg.nid, Ref("", "")).kind == "param":
            param = self.policy.params[arg.name]
            if param.kind in ("percent", "money"):
                self.error(f"{spec.name}(): param '{arg.name}' is {T.describe(Type(param.kind))}, "
                           f"not a {what}", arg.pos, scope.origin, code=codes.ARGUMENTS)
                return T.ERROR
            values = [v.value for v in param.values]
            whole = all(math.isfinite(v) and v == int(v) and v >= 1 for v in values)
            if whole and max(values) <= most:
                return t
            if whole:
                self.error(f"{spec.name}(): param '{arg.name}' is {int(max(values)):,}, but a "
                           f"window reaches back at most {most} periods", arg.pos,
                           scope.origin, code=codes.ARGUMENTS)
            else:
                self.error(f"{spec.name}(): param '{arg.name}' must be a whole {what} of at "
                           f"least 1 to be used here", arg.pos, scope.origin, code=codes.ARGUMENTS)
            return T.ERROR
        elif t == T.ERROR:
            return t
        self.error(f"{spec.name}(): the {what} must be a whole number of at least 1, "
                   "written as a number or a param", arg.pos, scope.origin, code=codes.ARGUMENTS)
        return T.ERROR

    def keyword_args(self, spec: Builtin, node: ast.Call, arg_types: list[Type],
                     scope: Scope) -> None:
        for kw in node.kwargs:
            if kw.name not in spec.kwargs:
                continue
            v = kw.value
            if kw.name == "by":
                if isinstance(v, ast.Name) and v.name == "all":
                    self.refs[v.nid] = Ref("group", "all")
                elif isinstance(v, ast.Name) and v.name in ENTITY_ATTRIBUTES:
                    self.refs[v.nid] = Ref("group", v.name)
                else:
                    self.error("by= takes an entity attribute (" + ", ".join(ENTITY_ATTRIBUTES)
                               + ") or 'all'"
                               + (did_you_mean(v.name, ENTITY_ATTRIBUTES + ("all",))
                                  if isinstance(v, ast.Name) else ""),
                               v.pos, scope.origin, code=codes.ARGUMENTS)
                self.types[v.nid] = T.STRING
            elif kw.name == "better":
                if isinstance(v, ast.Name) and v.name in ("higher", "lower"):
                    self.refs[v.nid] = Ref("direction", v.name)
                else:
                    self.error("better= takes 'higher' or 'lower'", v.pos, scope.origin,
                               code=codes.ARGUMENTS)
                self.types[v.nid] = T.STRING
            elif kw.name in dict(spec.choices):
                words = dict(spec.choices)[kw.name]
                if isinstance(v, ast.Name) and v.name in words:
                    self.refs[v.nid] = Ref("choice", v.name)
                else:
                    self.error(f"{spec.name}(): {kw.name}= takes "
                               + " or ".join(f"'{w}'" for w in words)
                               + (did_you_mean(v.name, words) if isinstance(v, ast.Name)
                                  else ""), v.pos, scope.origin, code=codes.ARGUMENTS)
                self.types[v.nid] = T.STRING
            else:  # standard=, floor=: thresholds in the unit of the scored value
                t = self.expr(v, scope)
                x = arg_types[0] if arg_types else T.ERROR
                if T.ERROR not in (t, x) and not T.comparable(x, t):
                    self.error(f"{kw.name}= must be comparable with the scored value: "
                               f"{T.describe(t)} vs {T.describe(x)}", v.pos, scope.origin)
        if spec.exclusive and sum(node.kwarg(k) is not None for k in spec.exclusive) > 1:
            self.error(f"{spec.name}() takes {' or '.join(k + '=' for k in spec.exclusive)}, "
                       "not both", node.pos, scope.origin, code=codes.ARGUMENTS)
        if spec.unstated is not None and node.kwarg(spec.unstated[0]) is None:
            self.warn(f"{spec.name}(): {spec.unstated[1]}", node.pos, scope.origin,
                      code=codes.ORIENTATION)

    def direction_for(self, spec: Builtin, node: ast.Call, scope: Scope) -> None:
        kw = node.kwarg("better")
        if kw is not None and isinstance(kw.value, ast.Name) and kw.value.name in ("higher",
                                                                                    "lower"):
            self.directions[node.nid] = kw.value.name
            return
        if not node.args:
            return
        d = self.direction(node.args[0])
        if d is None:
            if self.types.get(node.args[0].nid) == T.ERROR:
                return
            self.error(f"{spec.name}() needs to know whether higher or lower is better for "
                       "this expression; add better=higher or better=lower", node.args[0].pos,
                       scope.origin, code=codes.DIRECTION)
            return
        self.directions[node.nid] = d

    def direction(self, node: ast.Node) -> str | None:
        """Which way is better for a value, from the inputs it is built on."""
        p = self.policy
        ref = self.refs.get(node.nid)
        if isinstance(node, (ast.Name, ast.Attribute)) and ref is not None:
            if ref.kind == "input":
                inp = p.inputs[ref.name]
                return "lower" if inp.type == "rating" else inp.better
            if ref.kind == "define":
                return self.define_dirs.get(ref.name)
            return None
        if isinstance(node, ast.Lag):
            return self.direction(node.operand)
        if isinstance(node, ast.Unary) and node.op == "-":
            d = self.direction(node.operand)
            return {"higher": "lower", "lower": "higher"}.get(d) if d else None
        if isinstance(node, ast.Binary) and node.op in ("+", "-", "*", "/"):
            consts = (ast.Number,)
            left_const = isinstance(node.left, consts) or (
                self.refs.get(node.left.nid, Ref("", "")).kind == "param")
            right_const = isinstance(node.right, consts) or (
                self.refs.get(node.right.nid, Ref("", "")).kind == "param")
            if node.op in ("+", "-") and right_const:
                return self.direction(node.left)
            if node.op == "+" and left_const:
                return self.direction(node.right)
            if node.op in ("*", "/") and isinstance(node.right, ast.Number) and node.right.value > 0:
                return self.direction(node.left)
            if node.op == "*" and isinstance(node.left, ast.Number) and node.left.value > 0:
                return self.direction(node.right)
            return None
        if isinstance(node, ast.If):
            a, b = self.direction(node.then), self.direction(node.else_)
            return a if a == b else None
        if isinstance(node, ast.Call):
            spec = BUILTINS.get(node.func)
            if spec is None:
                return None
            if spec.better is not None:      # a rank or score: its own direction
                return spec.better
            if spec.better_from is None:
                return None
            # a value built from its arguments keeps their direction when they agree
            args = (node.args if spec.better_from == "all" else
                    [node.args[i] for i in spec.better_from if i < len(node.args)])
            dirs = {self.direction(a) for a in args}
            return dirs.pop() if len(dirs) == 1 else None
        return None

    def result(self, spec: Builtin, node: ast.Call, arg_types: list[Type],
               scope: Scope) -> Type:
        r = spec.result
        if r in ("same", "same_num"):
            # the first value argument (after `members`) gives the unit
            values = [t for k, t in zip(spec.params * len(node.args), arg_types)
                      if k not in ("members",)]
            first = values[0] if values else T.ERROR
            if spec.variadic:
                for a, t in zip(node.args[1:], values[1:]):
                    if T.join(first, t) is None and T.ERROR not in (first, t):
                        self.error(f"{spec.name}() needs values of one kind: "
                                   f"{T.describe(first)} and {T.describe(t)}", a.pos,
                                   scope.origin)
                        return T.ERROR
                    first = T.join(first, t) or first
            if r == "same_num" and first.kind == "count":
                return T.NUMBER
            return first
        return {"bool": T.BOOL, "count": T.COUNT, "number": T.NUMBER, "percent": T.PERCENT,
                "level": T.LEVEL}[r]
