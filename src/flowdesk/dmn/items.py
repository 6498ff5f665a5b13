"""Item definitions (DMN 1.5 section 7.3.2) resolved into types that check and coerce values.

A value bound to a typed variable (input data, decision, BKM parameter, context entry, table
output) is checked against its type. Per the spec (10.3.2.9.4) a value that does not conform
becomes null and the problem is reported as a diagnostic; a singleton list is unwrapped for a
non-collection type and a single value is wrapped for a collection type. Input data also get a
convenience: ISO text for a date, time, date and time or duration type is parsed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flowdesk.dmn.feel_bridge import UnaryTests
from flowdesk.feel import values
from flowdesk.feel.errors import FeelRuntimeError
from flowdesk.feel.runtime import Env, FeelFunction

#: typeRef spellings (XML Schema names of DMN 1.1, FEEL names) -> FEEL type name.
BUILTIN_TYPES: dict[str, str] = {
    "number": "number",
    "decimal": "number",
    "integer": "number",
    "double": "number",
    "string": "string",
    "boolean": "boolean",
    "date": "date",
    "time": "time",
    "date and time": "date and time",
    "dateTime": "date and time",
    "days and time duration": "days and time duration",
    "dayTimeDuration": "days and time duration",
    "years and months duration": "years and months duration",
    "yearMonthDuration": "years and months duration",
    "duration": "duration",
    "context": "context",
    "list": "list",
    "function": "function",
    "range": "range",
    "Any": "Any",
    "any": "Any",
}

_PARSERS = {
    "date": "parse_date",
    "time": "parse_time",
    "date and time": "parse_date_time",
    "days and time duration": "parse_duration",
    "years and months duration": "parse_duration",
}


@dataclass(eq=False)
class ItemType:
    """A resolved type: a FEEL base type, a structure of components, or a collection of one.

    `base` is a FEEL type name ("number", "context", ...) or "Any". Constraints from
    allowedValues / typeConstraint apply to the value (to each element of a collection).
    """

    name: str
    base: str = "Any"
    components: dict[str, ItemType] | None = None
    element: ItemType | None = None  # set when this is a collection
    allowed: list[tuple[UnaryTests, str]] = field(default_factory=list)
    output: ItemType | None = None  # a function item's outputTypeRef

    @property
    def is_collection(self) -> bool:
        return self.element is not None

    def conforms(
        self, value: Any, env: Env, *, complete: bool = True, constraints: bool = True
    ) -> bool:
        """True when `value` is an instance of this type (null conforms to every type).

        A context conforms to a structured type when it has every component (DMN 1.5
        10.3.2.9.1: the type's keys are a subset of the context's; more keys are fine).
        `complete=False` lets a component be absent: input data given as JSON may leave out
        null components. `constraints=False` ignores allowedValues and typeConstraint: FEEL's
        `instance of` is type conformance (Table 61, 10.3.2.9), which has no allowed values."""
        if value is None:
            return True
        if self.element is not None:
            return isinstance(value, list) and all(
                self.element.conforms(v, env, complete=complete, constraints=constraints)
                for v in value
            )
        if self.components is not None:
            if not isinstance(value, dict):
                return False
            for key, comp in self.components.items():
                if key not in value:
                    if complete:
                        return False
                    continue
                if not comp.conforms(value[key], env, complete=complete, constraints=constraints):
                    return False
        elif not _base_conforms(self.base, value):
            return False
        if not constraints:
            return True
        return all(test.matches(value, {}, env) is True for test, _ in self.allowed)

    def coerce(self, value: Any, env: Env, what: str, *, complete: bool = True) -> Any:
        """The value as this type per spec, or None plus a diagnostic naming `what`."""
        if (
            self.base == "Any"
            and self.components is None
            and self.element is None
            and not self.allowed
        ):
            return value
        if self.conforms(value, env, complete=complete):
            return value
        if (
            self.element is not None
            and not isinstance(value, list)
            and self.element.conforms(value, env, complete=complete)
        ):
            return [value]
        item = value
        while self.element is None and isinstance(item, list) and len(item) == 1:
            item = item[0]  # a singleton list is its item, also nested ([[10]] for a number)
        if item is not value and self.conforms(item, env, complete=complete):
            return item
        env.diagnostics.add(
            f"{what}: value {_show(value)} does not conform to type '{self.name}'; using null",
            severity="error",
        )
        return None

    def coerce_input(self, value: Any, env: Env, what: str) -> Any:
        """Like coerce, but first parses ISO text where the type (or a component or element
        of it) is a date, time, date and time or duration: an API convenience for JSON."""
        return self.coerce(self._parse_text(value, env, what), env, what, complete=False)

    def _parse_text(self, value: Any, env: Env, what: str) -> Any:
        if isinstance(value, str) and self.element is None and self.base in _PARSERS:
            try:
                return getattr(values, _PARSERS[self.base])(value)
            except FeelRuntimeError as exc:
                env.diagnostics.add(f"{what}: {exc}")
                return value  # left as text: coerce reports the type mismatch
        if self.element is not None and isinstance(value, list):
            return [self.element._parse_text(v, env, what) for v in value]
        if self.components is not None and isinstance(value, dict):
            return {
                key: (
                    self.components[key]._parse_text(v, env, f"{what}.{key}")
                    if key in self.components
                    else v
                )
                for key, v in value.items()
            }
        return value


ANY = ItemType("Any")


def _base_conforms(base: str, value: Any) -> bool:
    if base == "Any":
        return True
    if base == "number":
        return isinstance(value, Decimal)
    if base == "function":
        return isinstance(value, FeelFunction)
    if base == "duration":
        return values.type_name(value) in ("days and time duration", "years and months duration")
    try:
        return values.type_name(value) == base
    except TypeError:
        return False


def builtin_type(name: str) -> ItemType | None:
    """The ItemType for a built-in typeRef spelling, also `feel:number` and `list<number>`."""
    local = name.split(":", 1)[1] if name.startswith(("feel:", "FEEL:", "xsd:")) else name
    local = local.strip()
    if local in BUILTIN_TYPES:
        return ItemType(local, BUILTIN_TYPES[local])
    if local.startswith("list<") and local.endswith(">"):
        inner = builtin_type(local[5:-1])
        if inner is not None:
            return ItemType(local, "list", element=inner)
    for generic in ("context", "range", "function"):  # DMN 1.5 FEEL type syntax
        if local.startswith(generic + "<"):
            return ItemType(local, generic)
    return None


def _show(value: Any) -> str:
    try:
        text = values.to_string(value)
    except Exception:  # rendering a diagnostic must never fail
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
