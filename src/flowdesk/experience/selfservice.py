"""The open steps of a case as the customer meets them: the status page shows the self-service
form of the step that asks the customer something, and case notifications render the current
step as email/SMS text (experience/renditions.py). This module only reads the store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flowdesk.experience.bundle import TaskExperience
from flowdesk.experience.renditions import customer_form
from flowdesk.experience.service import instance_view
from flowdesk.store import Store


@dataclass(frozen=True, slots=True)
class OpenStep:
    """An open work item of the instance with its bundle step and the instance variables."""

    work_item_id: str
    task: TaskExperience
    variables: dict[str, Any]


def open_steps(store: Store, instance_id: str) -> list[OpenStep]:
    """The open work items of an instance that have a step in its bundle, oldest first."""
    state, items, bundle = instance_view(store, instance_id)
    if bundle is None:
        return []
    variables = dict(state.vars)
    return [
        OpenStep(item["id"], task, variables)
        for item in sorted(items, key=lambda i: (i["created_at"], i["id"]))
        if (task := bundle.tasks.get(item["element_id"])) is not None
    ]


def customer_step(store: Store, instance_id: str) -> OpenStep | None:
    """The first open step that asks the customer something, if any."""
    return next((s for s in open_steps(store, instance_id) if customer_form(s.task)), None)
