"""Deployed DMN decisions evaluated for other systems. Runtime problems do not fail a call: they
make a value null and come back as diagnostics, as they do inside a flow."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from flowdesk.app.context import Caller, Ops, require
from flowdesk.app.values import feel_variables, plain
from flowdesk.auth.roles import Permission
from flowdesk.runtime.decisions import DeployedDecisions


@dataclass(frozen=True, slots=True)
class Evaluated:
    decision: str
    value: Any  # the FEEL value as plain JSON
    diagnostics: list[dict[str, Any]]


def evaluate(caller: Caller, ops: Ops, key: str, inputs: Mapping[str, Any] | None) -> Evaluated:
    """Evaluate the newest deployed decision with this id or name (NotFoundError when none)."""
    require(caller, Permission.DECISIONS_EVALUATE)
    values = feel_variables(inputs, where="inputs")
    decisions = cast(DeployedDecisions, ops.runtime.decisions)  # what ProcessRuntime builds
    result = decisions.evaluate_result(key, values)
    return Evaluated(
        key,
        plain(result.value),
        [
            {"message": d.message, "expression": d.expression, "severity": d.severity}
            for d in result.diagnostics
        ],
    )
