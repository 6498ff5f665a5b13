"""FEEL AST -> nested Python closures `(scope, env) -> value`.

No Python source is ever built and nothing is eval'd: every node becomes a small closure over
its already-compiled children. Constants are folded at compile time. Runtime problems (wrong
types, unknown names, errors raised by operators or built-ins) become null plus a Diagnostic in
`env.diagnostics`; only FeelLimitError escapes.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flowdesk.feel import ast, values
from flowdesk.feel.errors import FeelLimitError, FeelRuntimeError, FeelSyntaxError
from flowdesk.feel.numbers import normalize
from flowdesk.feel.runtime import Env, FeelFunction
from flowdesk.feel.types import ContextType, FeelType, ListType, NamedType


class Scope:
    """One frame of variables; lookups walk outwards to the caller's context at the root."""

    __slots__ = ("parent", "vars")

    def __init__(self, vars: Mapping[str, Any], parent: Scope | None = None) -> None:
        self.vars = vars
        self.parent = parent


Fn = Callable[[Scope, Env], Any]
MISSING: Any = object()
EMPTY_SCOPE = Scope({})

_BUILTINS: dict[str, FeelFunction] | None = None


def builtins() -> dict[str, FeelFunction]:
    """The built-in functions, imported lazily (the module is written by another component)."""
    global _BUILTINS
    if _BUILTINS is None:
        try:
            from flowdesk.feel.builtins import BUILTINS
        except Exception:  # not written yet, or broken: only the fallbacks are available
            return _FALLBACK_BUILTINS
        merged = dict(_FALLBACK_BUILTINS)
        merged.update(BUILTINS)
        _BUILTINS = merged
    return _BUILTINS


class _Not(FeelFunction):
    name = "not"
    params = ("negand",)

    def call(self, env: Env, args: list[Any]) -> Any:
        value = args[0]
        return (not value) if type(value) is bool else None


_FALLBACK_BUILTINS: dict[str, FeelFunction] = {"not": _Not()}


@dataclass(slots=True)
class Code:
    """A compiled node: its closure, and its value when it is a compile-time constant."""

    fn: Fn
    const: bool = False
    value: Any = None


def constant(value: Any) -> Code:
    if isinstance(value, list):
        frozen = value

        def copy_list(scope: Scope, env: Env) -> Any:
            return list(frozen)

        return Code(copy_list, True, value)

    def const(scope: Scope, env: Env) -> Any:
        return value

    return Code(const, True, value)


def fail(env: Env | None, message: str, node: ast.Node, text: str) -> None:
    """Record a runtime problem; the caller returns null."""
    if env is not None:
        env.diagnostics.add(f"{message} (line {node.line}, column {node.column})", text)


def exception_message(exc: BaseException) -> str:
    if isinstance(exc, FeelRuntimeError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def count_iteration(env: Env) -> None:
    env.iterations += 1
    if env.iterations > env.limits.max_iterations:
        raise FeelLimitError(
            f"evaluation exceeded the limit of {env.limits.max_iterations} iterations "
            "(for, some, every and filters together)"
        )


def check_string(env: Env, value: Any) -> Any:
    if type(value) is str and len(value) > env.limits.max_string:
        raise FeelLimitError(
            f"string of {len(value)} characters exceeds the limit of {env.limits.max_string}"
        )
    return value


_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": values.add,
    "-": values.subtract,
    "*": values.multiply,
    "/": values.divide,
    "**": values.power,
}


# Same-type numbers and strings compare like Python values (exact decimals, code points).
_FAST_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def compare_op(op: str, a: Any, b: Any) -> bool | None:
    """`a op b` for the six comparison operators; raises FeelRuntimeError if incomparable."""
    if op == "=":
        return values.equals(a, b)
    if op == "!=":
        r = values.equals(a, b)
        return None if r is None else not r
    c = values.compare(a, b)
    if c is None:
        return None
    if op == "<":
        return c < 0
    if op == "<=":
        return c <= 0
    if op == ">":
        return c > 0
    return c >= 0


class UserFunction(FeelFunction):
    """A function defined in FEEL (`function(a, b) a + b`), closing over its defining scope."""

    def __init__(
        self,
        params: tuple[str, ...],
        param_types: tuple[FeelType | None, ...],
        body: Fn,
        scope: Scope,
    ) -> None:
        self.params = params
        self.param_types = param_types
        self.body = body
        self.scope = scope

    def call(self, env: Env, args: list[Any]) -> Any:
        if any(t is not None for t in self.param_types):
            args = [
                coerce_argument(name, ptype, arg)
                for name, ptype, arg in zip(self.params, self.param_types, args, strict=True)
            ]
        return self.body(Scope(dict(zip(self.params, args, strict=True)), self.scope), env)


def coerce_argument(name: str, ptype: FeelType | None, arg: Any) -> Any:
    """Type conformance of a typed parameter, with the spec's singleton-list coercions
    (DMN 1.5 10.3.2.9.4): `[x]` is `x` where a non-list is expected, `x` is `[x]` where a
    list is expected."""
    if ptype is None or arg is None or ptype.is_instance(arg):
        return arg
    if isinstance(ptype, ListType) and not isinstance(arg, list):
        if ptype.is_instance([arg]):
            return [arg]
    elif isinstance(arg, list) and len(arg) == 1 and ptype.is_instance(arg[0]):
        return arg[0]
    raise FeelRuntimeError(f"parameter '{name}' expects {ptype}, got {values.type_name(arg)}")


def _seconds(td: timedelta) -> tuple[int, int, int, int, int]:
    sign = -1 if td < timedelta(0) else 1
    total = abs(td)
    secs = total.seconds
    return sign, total.days, secs // 3600, (secs // 60) % 60, secs % 60


def _second_value(second: int, micro: int) -> Decimal:
    if micro:
        return Decimal(f"{second}.{micro:06d}").normalize()
    return Decimal(second)


def _timezone(tz: Any) -> Any:
    return tz.key if isinstance(tz, ZoneInfo) else None


def property_of(value: Any, name: str) -> Any:
    """`value.name` for contexts, temporal values, durations and ranges; MISSING if none."""
    t = type(value)
    if t is date:
        if name == "year":
            return Decimal(value.year)
        if name == "month":
            return Decimal(value.month)
        if name == "day":
            return Decimal(value.day)
        if name == "weekday":
            return Decimal(value.isoweekday())
        return MISSING
    if t is datetime:
        if name == "year":
            return Decimal(value.year)
        if name == "month":
            return Decimal(value.month)
        if name == "day":
            return Decimal(value.day)
        if name == "weekday":
            return Decimal(value.isoweekday())
        if name == "hour":
            return Decimal(value.hour)
        if name == "minute":
            return Decimal(value.minute)
        if name == "second":
            return _second_value(value.second, value.microsecond)
        if name == "time offset":
            return value.utcoffset()
        if name == "timezone":
            return _timezone(value.tzinfo)
        return MISSING
    if t is time:
        if name == "hour":
            return Decimal(value.hour)
        if name == "minute":
            return Decimal(value.minute)
        if name == "second":
            return _second_value(value.second, value.microsecond)
        if name == "time offset":
            from flowdesk.feel.temporal import time_offset

            return time_offset(value)
        if name == "timezone":
            return _timezone(value.tzinfo)
        return MISSING
    if t is timedelta:
        sign, days, hours, minutes, seconds = _seconds(value)
        if name == "days":
            return Decimal(sign * days)
        if name == "hours":
            return Decimal(sign * hours)
        if name == "minutes":
            return Decimal(sign * minutes)
        if name == "seconds":
            return Decimal(sign * seconds)
        return MISSING
    if t is values.YearsMonthsDuration:
        if name == "years":
            return Decimal(value.years)
        if name == "months":
            return Decimal(value.months_part)
        return MISSING
    if t is values.Range:
        if name == "start":
            return value.start
        if name == "end":
            return value.end
        if name == "start included":
            return value.start_included
        if name == "end included":
            return value.end_included
        return MISSING
    return MISSING


_CHAIN = 8


def _chain_length(node: ast.Node, kind: type) -> int:
    """How many `kind` nodes are on the left spine of `node` (stops counting past _CHAIN)."""
    count = 0
    while isinstance(node, kind) and count <= _CHAIN:
        count += 1
        node = node.left  # type: ignore[attr-defined]
    return count


def refers_to_input(node: ast.Node) -> bool:
    """Whether `?` (the unary-test input) occurs anywhere in `node` (iterative walk)."""
    stack: list[ast.Node] = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.Name):
            if n.name == "?":
                return True
            continue
        for field in n.__slots__:
            child = getattr(n, field, None)
            if isinstance(child, ast.Node):
                stack.append(child)
            elif isinstance(child, tuple):
                for item in child:
                    if isinstance(item, ast.Node):
                        stack.append(item)
                    elif (
                        isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], ast.Node)
                    ):
                        stack.append(item[1])
    return False


def _lookup(scope: Scope | None, name: str) -> Any:
    while scope is not None:
        v = scope.vars.get(name, MISSING)
        if v is not MISSING:
            return v
        scope = scope.parent
    return MISSING


def _follow(value: Any, path: list[str]) -> Any:
    """Path expression semantics (10.3.2.x): a context gives its entry, a list maps."""
    for key in path:
        if isinstance(value, list):
            value = [_follow(v, [key]) for v in value]
        elif isinstance(value, dict):
            value = value.get(key)
        elif value is None:
            return None
        else:
            value = property_of(value, key)
            if value is MISSING:
                return None
    return value


class Compiler:
    """Compiles the nodes of one FEEL text; `text` is kept for diagnostics."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.silent_names = 0  # > 0 inside filters, where item fields may be missing

    def compile(self, node: ast.Node) -> Code:
        method = getattr(self, "c_" + type(node).__name__)
        code: Code = method(node)
        return code

    # -- literals ----------------------------------------------------------------------------

    def c_Number(self, node: ast.Number) -> Code:
        # `1.50` is the number 1.5: literals get the canonical form arithmetic results have.
        return constant(normalize(node.value))

    def c_String(self, node: ast.String) -> Code:
        return constant(node.value)

    def c_Boolean(self, node: ast.Boolean) -> Code:
        return constant(node.value)

    def c_Null(self, node: ast.Null) -> Code:
        return constant(None)

    def c_Temporal(self, node: ast.Temporal) -> Code:
        try:
            return constant(values.parse_temporal(node.text))
        except Exception as exc:  # FeelRuntimeError, or anything the parser lets through
            raise FeelSyntaxError(
                f"invalid temporal literal: {exception_message(exc)}",
                text=self.text,
                line=node.line,
                column=node.column,
            ) from None

    def c_Name(self, node: ast.Name) -> Code:
        name = node.name
        silent = self.silent_names > 0
        text = self.text

        def lookup(scope: Scope, env: Env) -> Any:
            s: Scope | None = scope
            while s is not None:
                v = s.vars.get(name, MISSING)
                if v is not MISSING:
                    return v
                s = s.parent
            fn = builtins().get(name)
            if fn is not None:
                return fn
            if dotted:
                # `Person.Gender` read as one name because some scope of the model has that
                # name (a BKM parameter, 10.3.1.6 longest match); where it is not in scope it
                # is the path Person -> Gender.
                for cut in range(len(dotted) - 1, 0, -1):
                    found = _lookup(scope, ".".join(dotted[:cut]))
                    if found is not MISSING:
                        return _follow(found, dotted[cut:])
            if not silent:
                fail(env, f"unknown variable '{name}'", node, text)
            return None

        dotted = [part.strip() for part in name.split(".")] if "." in name else None
        return Code(lookup)

    # -- operators ---------------------------------------------------------------------------

    def c_Negation(self, node: ast.Negation) -> Code:
        operand = self.compile(node.operand)
        inner = operand.fn
        text = self.text

        def negate(scope: Scope, env: Env) -> Any:
            v = inner(scope, env)
            try:
                return values.negate(v)
            except Exception as exc:
                fail(env, exception_message(exc), node, text)
                return None

        return self.fold(Code(negate), operand)

    def fold(self, code: Code, *children: Code) -> Code:
        """Evaluate a node of constant children once, at compile time, when that is clean."""
        if not all(c.const for c in children):
            return code
        env = Env()
        try:
            value = code.fn(EMPTY_SCOPE, env)
        except FeelLimitError:
            return code
        if env.diagnostics or type(value) is str:
            # strings are left to run time, where the caller's string limit applies
            return code
        return constant(value)

    def c_Arithmetic(self, node: ast.Arithmetic) -> Code:
        if _chain_length(node, ast.Arithmetic) > _CHAIN:
            return self.arithmetic_chain(node)
        left = self.compile(node.left)
        right = self.compile(node.right)
        lf, rf = left.fn, right.fn
        op = _ARITHMETIC[node.op]
        text = self.text
        is_add = node.op == "+"

        def arith(scope: Scope, env: Env) -> Any:
            a = lf(scope, env)
            b = rf(scope, env)
            try:
                r = op(a, b)
            except FeelLimitError:
                raise
            except Exception as exc:
                fail(env, exception_message(exc), node, text)
                return None
            if is_add and type(r) is str and len(r) > env.limits.max_string:
                check_string(env, r)
            return r

        return self.fold(Code(arith), left, right)

    def c_Comparison(self, node: ast.Comparison) -> Code:
        left = self.compile(node.left)
        right = self.compile(node.right)
        lf, rf = left.fn, right.fn
        op = node.op
        text = self.text

        def general(a: Any, b: Any, env: Env) -> bool | None:
            try:
                return compare_op(op, a, b)
            except Exception as exc:
                fail(env, exception_message(exc), node, text)
                return None

        fast = _FAST_COMPARE[op]
        fn: Fn
        if right.const and type(right.value) in (Decimal, str):
            # `amount > 100`, `segment = "gold"`: one type check, then the Python operator.
            c = right.value
            tc = type(c)

            def fn(scope: Scope, env: Env) -> Any:
                a = lf(scope, env)
                if type(a) is tc:
                    return fast(a, c)
                return general(a, c, env)

        else:

            def fn(scope: Scope, env: Env) -> Any:
                a = lf(scope, env)
                b = rf(scope, env)
                ta = type(a)
                if ta is type(b) and (ta is Decimal or ta is str):
                    return fast(a, b)
                return general(a, b, env)

        return self.fold(Code(fn), left, right)

    def arithmetic_chain(self, node: ast.Arithmetic) -> Code:
        """`a + b - c * d + ...` with a long left spine, compiled as a loop (no deep recursion
        at compile or run time for long generated expressions)."""
        steps: list[ast.Arithmetic] = []
        n: ast.Node = node
        while isinstance(n, ast.Arithmetic):
            steps.append(n)
            n = n.left
        steps.reverse()
        base = self.compile(n).fn
        ops = tuple((_ARITHMETIC[st.op], self.compile(st.right).fn, st) for st in steps)
        text = self.text

        def chain(scope: Scope, env: Env) -> Any:
            acc = base(scope, env)
            for op, rf, st in ops:
                b = rf(scope, env)
                try:
                    acc = op(acc, b)
                except FeelLimitError:
                    raise
                except Exception as exc:
                    fail(env, exception_message(exc), st, text)
                    acc = None
                if type(acc) is str and len(acc) > env.limits.max_string:
                    check_string(env, acc)
            return acc

        return Code(chain)

    def logic_chain(self, node: ast.And | ast.Or) -> Code:
        """Long `a and b and c ...` / `a or b or ...` chains as one loop, same short-circuit."""
        kind = type(node)
        operands: list[ast.Node] = []
        n: ast.Node = node
        while isinstance(n, kind):
            operands.append(n.right)
            n = n.left
        operands.append(n)
        operands.reverse()
        fns = tuple(self.compile(o).fn for o in operands)
        decisive = kind is ast.Or  # `or` stops at true, `and` at false

        def chain(scope: Scope, env: Env) -> Any:
            unknown = False
            for f in fns:
                v = f(scope, env)
                if v is decisive:
                    return decisive
                if v is not (not decisive):
                    unknown = True
            return None if unknown else (not decisive)

        return Code(chain)

    def c_And(self, node: ast.And) -> Code:
        if _chain_length(node, ast.And) > _CHAIN:
            return self.logic_chain(node)
        left = self.compile(node.left)
        right = self.compile(node.right)
        lf, rf = left.fn, right.fn

        def conj(scope: Scope, env: Env) -> Any:
            a = lf(scope, env)
            if a is False:
                return False
            b = rf(scope, env)
            if b is False:
                return False
            if a is True and b is True:
                return True
            return None

        return self.fold(Code(conj), left, right)

    def c_Or(self, node: ast.Or) -> Code:
        if _chain_length(node, ast.Or) > _CHAIN:
            return self.logic_chain(node)
        left = self.compile(node.left)
        right = self.compile(node.right)
        lf, rf = left.fn, right.fn

        def disj(scope: Scope, env: Env) -> Any:
            a = lf(scope, env)
            if a is True:
                return True
            b = rf(scope, env)
            if b is True:
                return True
            if a is False and b is False:
                return False
            return None

        return self.fold(Code(disj), left, right)

    def c_Between(self, node: ast.Between) -> Code:
        value = self.compile(node.value).fn
        low = self.compile(node.low).fn
        high = self.compile(node.high).fn
        text = self.text

        def between(scope: Scope, env: Env) -> Any:
            v = value(scope, env)
            lo = low(scope, env)
            hi = high(scope, env)
            try:
                a = compare_op(">=", v, lo)
                b = compare_op("<=", v, hi)
            except Exception as exc:
                fail(env, exception_message(exc), node, text)
                return None
            if a is False or b is False:
                return False
            if a is True and b is True:
                return True
            return None

        return Code(between)

    def c_In(self, node: ast.In) -> Code:
        from flowdesk.feel.unary import compile_test

        value = self.compile(node.value).fn
        tests = tuple(compile_test(self, t) for t in node.tests)

        def in_(scope: Scope, env: Env) -> Any:
            v = value(scope, env)
            unknown = False
            for test in tests:
                r = test(v, scope, env)
                if r is True:
                    return True
                if r is None:
                    unknown = True
            return None if unknown else False

        return Code(in_)

    def c_UnaryCompare(self, node: ast.UnaryCompare) -> Code:
        raise FeelSyntaxError(
            f"'{node.op}' needs a left operand here",
            text=self.text,
            line=node.line,
            column=node.column,
        )

    def c_AnyInput(self, node: ast.AnyInput) -> Code:
        raise FeelSyntaxError(
            "'-' is only valid as a whole unary test",
            text=self.text,
            line=node.line,
            column=node.column,
        )

    def c_UnaryTests(self, node: ast.UnaryTests) -> Code:
        raise FeelSyntaxError(
            "unary tests are not an expression",
            text=self.text,
            line=node.line,
            column=node.column,
        )

    def c_InstanceOf(self, node: ast.InstanceOf) -> Code:
        value = self.compile(node.value)
        vf = value.fn
        ftype = node.type
        text = self.text
        unknown = isinstance(ftype, NamedType)

        nested = not unknown and _has_named(ftype)

        def instance_of(scope: Scope, env: Env) -> Any:
            v = vf(scope, env)
            if unknown:
                host = env.types.get(str(ftype)) if env.types is not None else None
                if host is not None:  # a DMN item definition
                    return v is not None and host(v, env)
                fail(env, f"unknown type '{ftype}'", node, text)
                return None
            if nested:  # `list<tPerson>`: item definitions inside a FEEL type
                return _instance_with_names(ftype, v, env)
            return ftype.is_instance(v)

        return self.fold(Code(instance_of), value)

    # -- control flow ------------------------------------------------------------------------

    def c_If(self, node: ast.If) -> Code:
        cond = self.compile(node.condition)
        then = self.compile(node.then)
        other = self.compile(node.otherwise)
        if cond.const:
            return then if cond.value is True else other
        cf, tf, of = cond.fn, then.fn, other.fn

        def if_(scope: Scope, env: Env) -> Any:
            if cf(scope, env) is True:
                return tf(scope, env)
            return of(scope, env)

        return Code(if_)

    def domain(self, it: ast.Iteration) -> Callable[[Scope, Env], list[Any] | None]:
        """Closure giving the values an iteration variable takes (None after a diagnostic)."""
        start = self.compile(it.domain).fn
        end = self.compile(it.end).fn if it.end is not None else None
        text = self.text

        def integers(a: Any, b: Any, env: Env) -> list[Any] | None:
            if type(a) is date and type(b) is date:
                return days(a, b, env)
            if not (type(a) is Decimal and type(b) is Decimal) or a != a.to_integral_value():
                fail(env, "a numeric range in an iteration needs integer bounds", it, text)
                return None
            if b != b.to_integral_value():
                fail(env, "a numeric range in an iteration needs integer bounds", it, text)
                return None
            lo, hi = int(a), int(b)
            if abs(hi - lo) >= env.limits.max_iterations:
                raise FeelLimitError(
                    f"range {lo}..{hi} exceeds the limit of {env.limits.max_iterations} iterations"
                )
            step = 1 if hi >= lo else -1
            return [Decimal(k) for k in range(lo, hi + step, step)]

        def days(a: date, b: date, env: Env) -> list[Any]:
            """`@"2024-01-01"..@"2024-01-03"`: every day from a to b (either direction)."""
            span = (b - a).days
            if abs(span) >= env.limits.max_iterations:
                raise FeelLimitError(
                    f"date range of {abs(span)} days exceeds the limit of "
                    f"{env.limits.max_iterations} iterations"
                )
            step = 1 if span >= 0 else -1
            return [a + timedelta(days=k) for k in range(0, span + step, step)]

        def domain(scope: Scope, env: Env) -> list[Any] | None:
            d = start(scope, env)
            if end is not None:
                return integers(d, end(scope, env), env)
            if isinstance(d, list):
                return d
            if isinstance(d, values.Range):
                a, b = d.start, d.end
                if type(a) is type(b) and type(a) in (Decimal, date) and b < a:
                    # Only the bare `2..1` iteration context counts down; a range value
                    # `[2..1]` whose start is after its end is not a range (null).
                    fail(env, "cannot iterate over a range whose start is after its end", it, text)
                    return None
                if type(a) is Decimal and type(b) is Decimal:
                    step = Decimal(1) if b >= a else Decimal(-1)
                    if not d.start_included:
                        a += step
                    if not d.end_included:
                        b -= step
                    if (b - a) * step < 0:
                        return []
                    return integers(a, b, env)
                if type(a) is date and type(b) is date:
                    one = timedelta(days=1) if b >= a else timedelta(days=-1)
                    if not d.start_included:
                        a += one
                    if not d.end_included:
                        b -= one
                    if (b - a) / one < 0:
                        return []
                    return days(a, b, env)
                fail(env, "can only iterate over a range of integers or dates", it, text)
                return None
            if d is None:
                fail(env, f"cannot iterate over null in '{it.name}'", it, text)
                return None
            return [d]

        return domain

    def c_For(self, node: ast.For) -> Code:
        names = tuple(it.name for it in node.iterations)
        domains = tuple(self.domain(it) for it in node.iterations)
        body = self.compile(node.body).fn
        depth = len(names)

        def for_(scope: Scope, env: Env) -> Any:
            results: list[Any] = []
            frame: dict[str, Any] = {"partial": results}
            failed = False

            def loop(k: int) -> None:
                nonlocal failed
                if k == depth:
                    count_iteration(env)
                    results.append(body(Scope(dict(frame), scope), env))
                    return
                items = domains[k](Scope(frame, scope), env)
                if items is None:
                    failed = True
                    return
                name = names[k]
                for item in items:
                    frame[name] = item
                    loop(k + 1)
                    if failed:
                        return

            loop(0)
            return None if failed else results

        return Code(for_)

    def c_Quantified(self, node: ast.Quantified) -> Code:
        names = tuple(it.name for it in node.iterations)
        domains = tuple(self.domain(it) for it in node.iterations)
        cond = self.compile(node.condition).fn
        depth = len(names)
        every = node.every

        def quantified(scope: Scope, env: Env) -> Any:
            frame: dict[str, Any] = {}
            inner = Scope(frame, scope)

            def loop(k: int) -> bool | None:
                """True when the answer is decided (some: found a true; every: a non-true)."""
                if k == depth:
                    count_iteration(env)
                    r = cond(inner, env)
                    return (r is not True) if every else (r is True)
                items = domains[k](inner, env)
                if items is None:
                    return None
                name = names[k]
                for item in items:
                    frame[name] = item
                    decided = loop(k + 1)
                    if decided is None or decided:
                        return decided
                return False

            decided = loop(0)
            if decided is None:
                return None
            return (not decided) if every else decided

        return Code(quantified)

    # -- data --------------------------------------------------------------------------------

    def c_RangeLiteral(self, node: ast.RangeLiteral) -> Code:
        start = self.compile(node.start) if node.start is not None else constant(None)
        end = self.compile(node.end) if node.end is not None else constant(None)
        sf, ef = start.fn, end.fn
        si, ei = node.start_included, node.end_included
        both = node.start is not None and node.end is not None
        text = self.text

        def range_(scope: Scope, env: Env) -> Any:
            a = sf(scope, env)
            b = ef(scope, env)
            if both:
                if a is None or b is None:
                    fail(env, "range endpoints must not be null", node, text)
                    return None
                try:
                    values.compare(a, b)
                except Exception as exc:
                    fail(env, f"invalid range: {exception_message(exc)}", node, text)
                    return None
            return values.Range(a, b, si, ei)

        return self.fold(Code(range_), start, end)

    def c_ListLiteral(self, node: ast.ListLiteral) -> Code:
        items = [self.compile(i) for i in node.items]
        fns = tuple(i.fn for i in items)

        def list_(scope: Scope, env: Env) -> Any:
            return [f(scope, env) for f in fns]

        if any(isinstance(i.value, list) for i in items):
            return Code(list_)  # a folded constant would share its inner lists with callers
        return self.fold(Code(list_), *items)

    def c_ContextLiteral(self, node: ast.ContextLiteral) -> Code:
        entries = tuple((key, self.compile(value).fn) for key, value in node.entries)
        keys = [key for key, _ in entries]
        duplicate = next((k for i, k in enumerate(keys) if k in keys[:i]), None)
        if duplicate is not None:
            text = self.text
            message = f"duplicate context key '{duplicate}': the context is null"

            def invalid(scope: Scope, env: Env) -> Any:
                fail(env, message, node, text)
                return None

            return Code(invalid)

        def context(scope: Scope, env: Env) -> Any:
            d: dict[str, Any] = {}
            inner = Scope(d, scope)
            for key, fn in entries:
                d[key] = fn(inner, env)
            return d

        return Code(context)

    def c_Path(self, node: ast.Path) -> Code:
        target = self.compile(node.target)
        tf = target.fn
        name = node.name
        text = self.text

        def get(v: Any, env: Env) -> Any:
            if isinstance(v, dict):
                return v.get(name)
            if isinstance(v, list):
                return [get(item, env) for item in v]
            if v is None:
                return None
            r = property_of(v, name)
            if r is MISSING:
                fail(env, f"{values.type_name(v)} has no property '{name}'", node, text)
                return None
            return r

        def path(scope: Scope, env: Env) -> Any:
            return get(tf(scope, env), env)

        return self.fold(Code(path), target)

    def c_Filter(self, node: ast.Filter) -> Code:
        target = self.compile(node.target).fn
        self.silent_names += 1
        try:
            cond = self.compile(node.condition)
        finally:
            self.silent_names -= 1
        cf = cond.fn
        text = self.text

        def index(items: list[Any], i: Any, env: Env) -> Any:
            if i != i.to_integral_value():
                fail(env, f"list index {i} is not an integer", node, text)
                return None
            k = int(i)
            n = len(items)
            if 1 <= k <= n:
                return items[k - 1]
            if -n <= k <= -1:
                return items[k]
            return None

        if cond.const:
            c = cond.value
            if type(c) is Decimal:

                def by_index(scope: Scope, env: Env) -> Any:
                    t = target(scope, env)
                    if t is None:
                        return None
                    return index(t if isinstance(t, list) else [t], c, env)

                return Code(by_index)

        def filter_(scope: Scope, env: Env) -> Any:
            t = target(scope, env)
            if t is None:
                return None
            items = t if isinstance(t, list) else [t]
            if not items:
                r = cf(scope, env)
                return None if type(r) is Decimal else []
            out: list[Any] = []
            first = True
            for item in items:
                count_iteration(env)
                inner = Scope({"item": item}, scope)
                if isinstance(item, dict):
                    inner = Scope(item, inner)
                r = cf(inner, env)
                if first and type(r) is Decimal:
                    return index(items, r, env)
                first = False
                if r is True:
                    out.append(item)
            return out

        return Code(filter_)

    def c_FunctionDefinition(self, node: ast.FunctionDefinition) -> Code:
        params = tuple(name for name, _ in node.params)
        types = tuple(t for _, t in node.params)
        body = self.compile(node.body).fn

        def define(scope: Scope, env: Env) -> Any:
            return UserFunction(params, types, body, scope)

        return Code(define)

    def c_Call(self, node: ast.Call) -> Code:
        args = tuple(self.compile(a).fn for a in node.args)
        named = (
            tuple((k, self.compile(v).fn) for k, v in node.named)
            if node.named is not None
            else None
        )
        text = self.text
        target = node.function
        resolve: Fn
        if isinstance(target, ast.Name):
            fname = target.name

            def resolve(scope: Scope, env: Env) -> Any:
                # A variable that holds a function wins; a variable of another type does not
                # hide the built-in of that name (`count` may be both).
                s: Scope | None = scope
                found: Any = MISSING
                while s is not None:
                    v = s.vars.get(fname, MISSING)
                    if v is not MISSING:
                        if isinstance(v, FeelFunction):
                            return v
                        if found is MISSING:
                            found = v
                    s = s.parent
                fn = builtins().get(fname)
                if fn is None:
                    if found is MISSING or found is None:
                        fail(env, f"unknown function '{fname}'", node, text)
                    return found if found is not MISSING else None
                return fn

        else:
            resolve = self.compile(target).fn

        def call(scope: Scope, env: Env) -> Any:
            fn = resolve(scope, env)
            if not isinstance(fn, FeelFunction):
                if fn is not None:
                    fail(env, f"{values.type_name(fn)} is not a function", node, text)
                elif not isinstance(target, ast.Name):
                    fail(env, "null is not a function", node, text)
                return None
            try:
                if named is None:
                    r = fn.invoke(env, [a(scope, env) for a in args], None)
                else:
                    r = fn.invoke(env, None, {k: a(scope, env) for k, a in named})
            except (FeelLimitError, RecursionError):
                raise
            except Exception as exc:
                fail(env, f"{fn.name}: {exception_message(exc)}", node, text)
                return None
            if type(r) is str:
                check_string(env, r)
            return r

        return Code(call)


def compile_node(node: ast.Node, text: str) -> Fn:
    """Compile a parsed expression to its closure."""
    return Compiler(text).compile(node).fn


__all__ = ["Code", "Compiler", "Fn", "Scope", "UserFunction", "compile_node"]


def _has_named(ftype: FeelType) -> bool:
    if isinstance(ftype, NamedType):
        return True
    if isinstance(ftype, ListType):
        return _has_named(ftype.item)
    if isinstance(ftype, ContextType):
        return any(_has_named(t) for _, t in ftype.fields)
    return False


def _instance_with_names(ftype: FeelType, v: Any, env: Env) -> bool:
    """`instance of` for a FEEL type that names DMN item definitions inside it."""
    if isinstance(ftype, NamedType):
        host = env.types.get(ftype.name) if env.types is not None else None
        return host is not None and v is not None and host(v, env)
    if isinstance(ftype, ListType):
        return isinstance(v, list) and all(
            x is None or _instance_with_names(ftype.item, x, env) for x in v
        )
    if isinstance(ftype, ContextType):
        return isinstance(v, dict) and all(
            k in v and (v[k] is None or _instance_with_names(t, v[k], env)) for k, t in ftype.fields
        )
    return ftype.is_instance(v)
