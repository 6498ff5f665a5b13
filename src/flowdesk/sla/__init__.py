"""SLAs and OLAs on business calendars: policies per contact reason and step, clocks paused
while waiting on the customer, breach prediction and escalation. Pure."""

from flowdesk.sla.clock import SlaClock
from flowdesk.sla.policy import Escalation, Ola, SlaCatalog, SlaError, SlaPolicy
from flowdesk.sla.prediction import Forecast, due_escalations, next_escalation_at, predict

__all__ = [
    "Escalation",
    "Forecast",
    "Ola",
    "SlaCatalog",
    "SlaClock",
    "SlaError",
    "SlaPolicy",
    "due_escalations",
    "next_escalation_at",
    "predict",
]
