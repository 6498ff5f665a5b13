"""One behaviour per element kind; the engine looks them up by BPMN element type."""

from __future__ import annotations

from flowdesk.engine.behaviours.base import Behaviour
from flowdesk.engine.behaviours.business_rule_task import BusinessRuleTask
from flowdesk.engine.behaviours.call_activity import CallActivity
from flowdesk.engine.behaviours.event_based_gateway import EventBasedGateway
from flowdesk.engine.behaviours.events import (
    BoundaryEvent,
    EndEvent,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    StartEvent,
)
from flowdesk.engine.behaviours.exclusive_gateway import ExclusiveGateway
from flowdesk.engine.behaviours.inclusive_gateway import InclusiveGateway
from flowdesk.engine.behaviours.parallel_gateway import ParallelGateway
from flowdesk.engine.behaviours.receive_task import ReceiveTask
from flowdesk.engine.behaviours.script_task import ScriptTask
from flowdesk.engine.behaviours.service_task import SendTask, ServiceTask
from flowdesk.engine.behaviours.sub_process import SubProcess
from flowdesk.engine.behaviours.tasks import PassThroughTask
from flowdesk.engine.behaviours.user_task import UserTask

BEHAVIOURS: dict[str, Behaviour] = {
    "startEvent": StartEvent(),
    "endEvent": EndEvent(),
    "intermediateCatchEvent": IntermediateCatchEvent(),
    "intermediateThrowEvent": IntermediateThrowEvent(),
    "boundaryEvent": BoundaryEvent(),
    "task": PassThroughTask(),
    "manualTask": PassThroughTask(),
    "userTask": UserTask(),
    "serviceTask": ServiceTask(),
    "sendTask": SendTask(),
    "receiveTask": ReceiveTask(),
    "scriptTask": ScriptTask(),
    "businessRuleTask": BusinessRuleTask(),
    "exclusiveGateway": ExclusiveGateway(),
    "parallelGateway": ParallelGateway(),
    "inclusiveGateway": InclusiveGateway(),
    "eventBasedGateway": EventBasedGateway(),
    "subProcess": SubProcess(),
    "callActivity": CallActivity(),
}

__all__ = ["BEHAVIOURS", "Behaviour"]
