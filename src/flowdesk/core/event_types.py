"""The registry of every event type Flowdesk writes to its log, with the fields of each payload.

Why: the log is read by routing, cases, analytics, webhooks, the CloudEvents export and process
mining; a type string repeated by hand in each of them drifts (a typo is a consumer that never
fires). Code names types through `EventType`, and in tests every `NewEvent` of Flowdesk's source
is checked against its payload here (`check`, switched on by `set_strict`), so a new field or type
is written down once, with its meaning.

A payload is a frozen dataclass: fields without a default are always written, fields with one are
written when they apply. `OPEN` payloads may carry more keys than they list (engine data, the
variables of a step). Pure data, no I/O; `python -m flowdesk.core.event_types --markdown` prints
the table of docs/architecture.md.
"""

from __future__ import annotations

import os
import sys
from dataclasses import MISSING, dataclass, fields
from typing import Any, Final

#: The CloudEvents type of a Flowdesk event is this prefix plus the event's type.
CLOUDEVENT_PREFIX: Final = "io.flowdesk."
#: The `source` of the events Flowdesk itself writes (events posted by other systems keep theirs).
FLOWDESK_SOURCE: Final = "/flowdesk"


class EventType:
    """The type names, to use instead of string literals (plain `str`, so they compare, hash and
    bind into SQL exactly as the strings stored in the log)."""

    # engine (mapped from the engine's own event kinds by the runtime)
    PROCESS_STARTED: Final = "process.started"
    PROCESS_COMPLETED: Final = "process.completed"
    PROCESS_CANCELLED: Final = "process.cancelled"
    ELEMENT_ACTIVATED: Final = "element.activated"
    ELEMENT_COMPLETED: Final = "element.completed"
    ELEMENT_TERMINATED: Final = "element.terminated"
    VARIABLES_CHANGED: Final = "variables.changed"
    INCIDENT_RAISED: Final = "incident.raised"
    INCIDENT_RESOLVED: Final = "incident.resolved"
    ESCALATION_UNCAUGHT: Final = "escalation.uncaught"
    # runtime
    DEPLOYMENT_CREATED: Final = "deployment.created"
    PROCESS_DEFINITION_DEPLOYED: Final = "process_definition.deployed"
    MESSAGE_BUFFERED: Final = "message.buffered"
    START_TRIGGER_HELD: Final = "start_trigger.held"
    WORK_ITEM_CREATED: Final = "work_item.created"
    WORK_ITEM_COMPLETED: Final = "work_item.completed"
    WORK_ITEM_CANCELLED: Final = "work_item.cancelled"
    WORK_ITEM_CLAIMED: Final = "work_item.claimed"
    WORK_ITEM_UNCLAIMED: Final = "work_item.unclaimed"
    WORK_ITEM_DELEGATED: Final = "work_item.delegated"
    WORK_ITEM_NOTE_ADDED: Final = "work_item.note_added"
    # routing and SLA
    AGENT_UPDATED: Final = "agent.updated"
    AGENT_PRESENCE_CHANGED: Final = "agent.presence_changed"
    WORK_ITEM_QUEUED: Final = "work_item.queued"
    WORK_ITEM_OFFERED: Final = "work_item.offered"
    WORK_ITEM_DECLINED: Final = "work_item.declined"
    WORK_ITEM_OFFER_EXPIRED: Final = "work_item.offer_expired"
    WORK_ITEM_ASSIGNED: Final = "work_item.assigned"
    WORK_ITEM_TRANSFERRED: Final = "work_item.transferred"
    WORK_ITEM_LEFT_QUEUE: Final = "work_item.left_queue"
    DEPARTMENT_HANDOFF: Final = "department.handoff"
    SLA_PAUSED: Final = "sla.paused"
    SLA_RESUMED: Final = "sla.resumed"
    SLA_BREACHED: Final = "sla.breached"
    SLA_ESCALATED: Final = "sla.escalated"
    # contacts and channels
    CONTACT_RECEIVED: Final = "contact.received"
    CONTACT_FAILED: Final = "contact.failed"
    CONTACT_IDENTIFIED: Final = "contact.identified"
    CONTACT_RECOGNISED: Final = "contact.recognised"
    CONTACT_TRIAGE_REQUIRED: Final = "contact.triage_required"
    CONTACT_MERGED_DUPLICATE: Final = "contact.merged_duplicate"
    CONTACT_SENT: Final = "contact.sent"
    CONTACT_DEFERRED: Final = "contact.deferred"
    CONTACT_DELIVERY: Final = "contact.delivery"
    CALL_OFFERED: Final = "call.offered"
    CALL_ANSWERED: Final = "call.answered"
    CALL_TRANSFERRED: Final = "call.transferred"
    CALL_ENDED: Final = "call.ended"
    CALL_VOICEMAIL: Final = "call.voicemail"
    NOTIFICATION_SENT: Final = "notification.sent"
    NOTIFICATION_DEFERRED: Final = "notification.deferred"
    REASON_MODEL_TRAINED: Final = "reason_model.trained"
    # cases
    CASE_OPENED: Final = "case.opened"
    CASE_CLOSED: Final = "case.closed"
    CASE_REOPENED: Final = "case.reopened"
    CASE_FOLLOW_UP_LINKED: Final = "case.follow_up_linked"
    CASE_CONTACT_ATTACHED: Final = "case.contact_attached"
    CASE_STATUS_REQUESTED: Final = "case.status_requested"
    SURVEY_SENT: Final = "survey.sent"
    SURVEY_ANSWERED: Final = "survey.answered"
    # customers
    CUSTOMER_CREATED: Final = "customer.created"
    CUSTOMER_UPDATED: Final = "customer.updated"
    CUSTOMER_IDENTITY_ADDED: Final = "customer.identity_added"
    CUSTOMER_IMPORT_COMPLETED: Final = "customer.import_completed"
    CUSTOMER_MERGED: Final = "customer.merged"
    CUSTOMER_ERASED: Final = "customer.erased"
    CUSTOMER_UNMERGED: Final = "customer.unmerged"
    CUSTOMER_PREFERENCES_SET: Final = "customer.preferences_set"
    CUSTOMER_CONSENT_SET: Final = "customer.consent_set"
    CUSTOMER_REVIEW_REQUESTED: Final = "customer.review_requested"
    CUSTOMER_REVIEWED: Final = "customer.reviewed"
    CUSTOMER_FORM_SUBMITTED: Final = "customer.form_submitted"
    CUSTOMER_INFORMATION_ADDED: Final = "customer.information_added"
    CUSTOMER_PHOTO_ADDED: Final = "customer.photo_added"
    # administration
    USER_CREATED: Final = "user.created"
    USER_UPDATED: Final = "user.updated"
    USER_DEACTIVATED: Final = "user.deactivated"
    USER_REACTIVATED: Final = "user.reactivated"
    USER_PASSWORD_RESET: Final = "user.password_reset"
    WORK_ITEM_PRIORITY_CHANGED: Final = "work_item.priority_changed"
    ROUTING_BOOSTED: Final = "routing.boosted"
    USER_LOGGED_IN: Final = "user.logged_in"
    USER_LOCKED_OUT: Final = "user.locked_out"
    API_KEY_CREATED: Final = "api_key.created"
    API_KEY_REVOKED: Final = "api_key.revoked"
    WEBHOOK_CREATED: Final = "webhook.created"
    WEBHOOK_DELETED: Final = "webhook.deleted"
    EXPERIENCE_BUNDLE_DEPLOYED: Final = "experience_bundle.deployed"
    KNOWLEDGE_FEEDBACK: Final = "knowledge.feedback"
    DEMO_OUTBOX_RECEIVED: Final = "demo.outbox.received"
    # event patterns (flowdesk.cep, flowdesk.situations)
    SITUATION_RAISED: Final = "situation.raised"
    SITUATION_UPDATED: Final = "situation.updated"
    SITUATION_CLEARED: Final = "situation.cleared"
    SITUATION_ALERT: Final = "situation.alert"
    SITUATION_CONTACT_HELD: Final = "situation.contact_held"
    SITUATION_ACTION_DONE: Final = "situation.action_done"


# -- payloads ---------------------------------------------------------------------------------
# Engine events carry the definition and, for an element, its type, name and token.


@dataclass(frozen=True, slots=True)
class ProcessStarted:
    definition_id: str
    process: str
    business_key: str | None = None


@dataclass(frozen=True, slots=True)
class ProcessCompleted:
    definition_id: str
    process: str
    error: str | None = None  # the error code of an error end event


@dataclass(frozen=True, slots=True)
class ProcessCancelled:
    definition_id: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class ElementEvent:
    definition_id: str
    element_type: str | None = None
    element_name: str | None = None
    token: str | None = None
    #: only in a stored element.completed row at history level `activity`: the id of the
    #: element.activated event the row also stands for (the log reads it back as both)
    activated_id: str | None = None


@dataclass(frozen=True, slots=True)
class VariablesChanged:
    definition_id: str
    variables: dict[str, Any]
    element_type: str | None = None
    element_name: str | None = None
    token: str | None = None


@dataclass(frozen=True, slots=True)
class IncidentRaised:
    message: str
    definition_id: str | None = None  # raised by the engine
    element_type: str | None = None
    element_name: str | None = None
    token: str | None = None
    job_id: str | None = None  # raised by the job executor after the last retry
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class EscalationUncaught:
    """An escalation no boundary or event sub-process caught, up to the top-level instance:
    BPMN lets the flow go on, so it is only recorded (for supervisors and process mining)."""

    definition_id: str
    code: str | None = None
    element_type: str | None = None
    element_name: str | None = None
    token: str | None = None


@dataclass(frozen=True, slots=True)
class IncidentResolved:
    definition_id: str
    incident: str
    element_type: str | None = None
    element_name: str | None = None
    token: str | None = None


@dataclass(frozen=True, slots=True)
class DeploymentCreated:
    deployment_id: str
    name: str
    files: list[str]


@dataclass(frozen=True, slots=True)
class ProcessDefinitionDeployed:
    definition_id: str
    key: str
    version: int


@dataclass(frozen=True, slots=True)
class MessageBuffered:
    name: str
    correlation_key: str | None


@dataclass(frozen=True, slots=True)
class StartTriggerHeld:
    """One trigger of a parallel multiple start event came; `missing` still must."""

    definition_id: str
    element_id: str
    trigger: str
    correlation_key: str | None
    missing: list[str]


@dataclass(frozen=True, slots=True)
class WorkItemCreated:
    work_item_id: str
    name: str | None
    candidate_groups: list[str]
    candidate_users: list[str]
    assignee: str | None
    form_key: str | None
    due: str | None
    priority: int | None
    process_key: str
    business_key: str | None
    waiting_since: str | None = None  # when the contact behind the first step arrived


@dataclass(frozen=True, slots=True)
class WorkItemRef:
    work_item_id: str


@dataclass(frozen=True, slots=True)
class WorkItemAssignee:
    work_item_id: str
    assignee: str | None
    previous: str | None


@dataclass(frozen=True, slots=True)
class WorkItemNoteAdded:
    work_item_id: str
    text: str


@dataclass(frozen=True, slots=True)
class AgentUpdated:
    agent: str
    display_name: str
    skills: dict[str, int]
    languages: list[str]
    departments: list[str]
    capacity: dict[str, int]
    updated_at: str


@dataclass(frozen=True, slots=True)
class AgentPresenceChanged:
    agent: str
    presence: str
    previous: str | None


@dataclass(frozen=True, slots=True)
class WorkItemQueued:
    work_item_id: str
    channel: str | None
    priority: float
    due: str | None
    sla_policy: str | None
    assignee: str | None


@dataclass(frozen=True, slots=True)
class WorkItemOffered:
    work_item_id: str
    offer_id: str
    agent: str
    expires_at: str


@dataclass(frozen=True, slots=True)
class WorkItemOfferEnded:
    work_item_id: str
    offer_id: str
    agent: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class WorkItemAssigned:
    work_item_id: str
    agent: str
    via: str
    waiting_seconds: float


@dataclass(frozen=True, slots=True)
class WorkItemTransferred:
    work_item_id: str
    from_department: str | None
    to_department: str
    from_agent: str | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class WorkItemLeftQueue:
    work_item_id: str
    reason: str
    agent: str | None
    waiting_seconds: float | None
    working_seconds: float | None
    sla: list[dict[str, str]]


@dataclass(frozen=True, slots=True)
class DepartmentHandoff:
    from_department: str | None
    to_department: str | None
    from_work_item: str
    to_work_item: str
    waiting_seconds: float | None
    working_seconds: float | None
    ola_minutes: float | None


@dataclass(frozen=True, slots=True)
class SlaPause:
    work_item_id: str
    due: str | None


@dataclass(frozen=True, slots=True)
class SlaBreached:
    work_item_id: str
    kind: str
    policy: str | None
    agent: str | None
    deadline: str | None


@dataclass(frozen=True, slots=True)
class SlaEscalated:
    work_item_id: str
    kind: str
    policy: str | None
    agent: str | None
    deadline: str | None
    action: str
    at: Any
    by: float | None = None  # raise_priority
    department_to: str | None = None  # reassign
    message: str | None = None  # message


@dataclass(frozen=True, slots=True)
class ContactReceived:
    bytes: int


@dataclass(frozen=True, slots=True)
class ContactFailed:
    error: str


@dataclass(frozen=True, slots=True)
class NoFields:
    pass


@dataclass(frozen=True, slots=True)
class ContactRecognised:
    reason: str | None
    source: str
    confidence: float
    candidates: list[list[Any]]


@dataclass(frozen=True, slots=True)
class ContactTriageRequired:
    candidates: list[list[Any]]
    threshold: float
    received_at: str
    why: str
    flags: list[str] | None = None


@dataclass(frozen=True, slots=True)
class ContactMergedDuplicate:
    original: str


@dataclass(frozen=True, slots=True)
class ContactDelivery:
    provider_id: str  # "twilio:SM..." or "whatsapp:wamid..."
    status: str  # the provider's word: queued, sent, delivered, read, undelivered, failed ...
    error: str | None = None


@dataclass(frozen=True, slots=True)
class CallEvent:
    call_id: str
    caller: str  # the customer's number
    agent: str | None = None  # who answered, or who the call was transferred to
    from_agent: str | None = None  # transferred: who handed it over
    duration_s: int | None = None  # ended
    outcome: str | None = None  # ended: completed, busy, no-answer, failed, canceled
    reference: str | None = None  # the case's reference, for the agent's screen-pop


@dataclass(frozen=True, slots=True)
class ContactOutbound:
    to: str
    text: str
    reply_to_contact: str
    reference: str
    send_at: str | None = None  # deferred until the customer's quiet hours end


@dataclass(frozen=True, slots=True)
class Notification:
    to: str
    send_at: str | None = None


@dataclass(frozen=True, slots=True)
class ReasonModelTrained:
    model_id: str
    version: int
    accuracy: float
    macro_f1: float
    examples: int
    labels: list[str]


@dataclass(frozen=True, slots=True)
class CaseOpened:
    reference: str
    reason: str | None
    process_key: str | None


@dataclass(frozen=True, slots=True)
class CaseClosed:
    reference: str
    reason: str | None
    process_key: str | None
    instance_id: str | None
    outcome: str


@dataclass(frozen=True, slots=True)
class CaseReopened:
    reference: str
    reason: str | None
    closed_at: str | None
    previous_instance_id: str | None
    why: str


@dataclass(frozen=True, slots=True)
class CaseFollowUpLinked:
    why: str
    follows: str | None = None  # on the new case: the closed case it follows
    follows_case_id: str | None = None
    followed_by: str | None = None  # on the closed case: the new case
    followed_by_case_id: str | None = None


@dataclass(frozen=True, slots=True)
class CaseContactAttached:
    how: str
    reference: str
    why: str | None
    follows: str | None = None


@dataclass(frozen=True, slots=True)
class CaseStatusRequested:
    reference: str | None
    verified: bool


@dataclass(frozen=True, slots=True)
class SurveySent:
    reference: str
    delivered: bool


@dataclass(frozen=True, slots=True)
class SurveyAnswered:
    csat: int | None
    nps: int | None
    reference: str | None = None
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class CustomerCreated:
    status: str
    profile: dict[str, Any]
    review_reason: str | None = None  # created by hand or by identity resolution
    source: str | None = None  # created by a bulk import: the file and row
    row: int | None = None


@dataclass(frozen=True, slots=True)
class CustomerUpdated:
    changes: dict[str, dict[str, Any]]
    version: int


@dataclass(frozen=True, slots=True)
class CustomerIdentityAdded:
    identity_id: str
    kind: str
    value: str
    verified: bool


@dataclass(frozen=True, slots=True)
class CustomerImportCompleted:
    source: str
    created: int
    identities: int


@dataclass(frozen=True, slots=True)
class CustomerMerged:
    merge_id: str
    survivor_id: str
    merged_id: str
    moved_identities: list[str]
    filled_fields: list[str]
    reason: str | None


@dataclass(frozen=True, slots=True)
class CustomerUnmerged:
    merge_id: str
    survivor_id: str
    merged_id: str
    restored_identities: list[str]
    cleared_fields: list[str]
    kept_fields: list[str]
    reason: str | None


@dataclass(frozen=True, slots=True)
class CustomerPreferencesSet:
    """Only the preferences that were set (None clears one)."""

    channel: str | None = None
    language: str | None = None
    quiet_start: str | None = None
    quiet_end: str | None = None
    timezone: str | None = None


@dataclass(frozen=True, slots=True)
class CustomerConsentSet:
    channel: str
    granted: bool
    source: str | None


@dataclass(frozen=True, slots=True)
class CustomerReviewRequested:
    reason: str | None


@dataclass(frozen=True, slots=True)
class CustomerReviewed:
    previous_status: str


@dataclass(frozen=True, slots=True)
class CustomerFormSubmitted:
    business_key: str | None
    work_item_id: str
    fields: list[str]


@dataclass(frozen=True, slots=True)
class CustomerInformationAdded:
    text: str
    business_key: str | None
    delivered: bool


@dataclass(frozen=True, slots=True)
class CustomerPhotoAdded:
    text: str
    photo: str
    business_key: str | None
    location: str


@dataclass(frozen=True, slots=True)
class UserCreated:
    user_id: str
    username: str
    roles: list[str]
    groups: list[str]


@dataclass(frozen=True, slots=True)
class UserUpdated:
    user_id: str
    username: str
    roles: list[str] | None = None
    groups: list[str] | None = None


@dataclass(frozen=True, slots=True)
class UserRef:
    user_id: str


@dataclass(frozen=True, slots=True)
class CustomerErased:
    reason: str
    identities: int
    contacts: int
    flows: int
    events: int


@dataclass(frozen=True, slots=True)
class UserLockedOut:
    until: str  # ISO 8601: when the account takes logins again
    failures: int


@dataclass(frozen=True, slots=True)
class WorkItemPriorityChanged:
    work_item_id: str
    priority: int
    previous: int | None


@dataclass(frozen=True, slots=True)
class RoutingBoosted:
    work_item_id: str
    by: float
    boost: float
    previous: float


@dataclass(frozen=True, slots=True)
class ApiKeyCreated:
    key_id: str
    user_id: str
    name: str


@dataclass(frozen=True, slots=True)
class ApiKeyRevoked:
    key_id: str


@dataclass(frozen=True, slots=True)
class WebhookCreated:
    webhook_id: str
    url: str
    event_types: list[str]


@dataclass(frozen=True, slots=True)
class WebhookDeleted:
    webhook_id: str


@dataclass(frozen=True, slots=True)
class ExperienceBundleDeployed:
    bundle_id: str
    name: str
    number: int
    version: str | None
    owner: str | None
    deployment_id: str
    definitions: list[str]
    reasons: list[str]
    articles: list[str]
    restores: int | None = None  # a rollback: the bundle number it restores


@dataclass(frozen=True, slots=True)
class KnowledgeFeedback:
    slug: str
    helpful: bool
    work_item_id: str | None


@dataclass(frozen=True, slots=True)
class DemoOutboxReceived:
    to: str
    subject: str | None
    text: str
    reference: str | None


@dataclass(frozen=True, slots=True)
class SituationChanged:
    situation_id: str
    rule: str
    key: str
    title: str
    count: int
    cleared_by: str | None = None


@dataclass(frozen=True, slots=True)
class SituationAlert:
    situation_id: str
    title: str
    text: str


@dataclass(frozen=True, slots=True)
class SituationContactHeld:
    situation_id: str
    title: str


@dataclass(frozen=True, slots=True)
class SituationActionDone:
    situation_id: str
    action: str  # start_flow | notify_customers | correlate | alert | hold_contacts
    key: str  # the action's idempotency key
    result: str


# -- the registry -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventSpec:
    """One registered type: its payload, how it is exported, and what it means."""

    name: str
    payload: type[Any]
    description: str
    required: frozenset[str]
    allowed: frozenset[str]
    open: bool = False  # the payload may carry keys it does not list

    @property
    def cloudevent_type(self) -> str:
        return CLOUDEVENT_PREFIX + self.name


class UnknownEventType(ValueError):
    """A type that is not in the registry, written with Flowdesk's source."""


class EventPayloadError(ValueError):
    """An event's data misses a field its type always carries, or has one the type lacks."""


REGISTRY: dict[str, EventSpec] = {}


def _register(name: str, payload: type[Any], description: str, *, open: bool = False) -> None:
    assert name not in REGISTRY, name
    all_fields = fields(payload)
    required = {f.name for f in all_fields if f.default is MISSING and f.default_factory is MISSING}
    REGISTRY[name] = EventSpec(
        name,
        payload,
        description,
        frozenset(required),
        frozenset(f.name for f in all_fields),
        open,
    )


E = EventType
_register(E.PROCESS_STARTED, ProcessStarted, "A process instance started.")
_register(E.PROCESS_COMPLETED, ProcessCompleted, "A process instance reached its end.")
_register(E.PROCESS_CANCELLED, ProcessCancelled, "A process instance was cancelled.")
_register(E.ELEMENT_ACTIVATED, ElementEvent, "A token entered a BPMN element.")
_register(E.ELEMENT_COMPLETED, ElementEvent, "A BPMN element finished its work.")
_register(E.ELEMENT_TERMINATED, ElementEvent, "A BPMN element was interrupted.")
_register(E.VARIABLES_CHANGED, VariablesChanged, "Process variables were set (new values).")
_register(E.INCIDENT_RAISED, IncidentRaised, "A step failed for good and waits for a person.")
_register(E.INCIDENT_RESOLVED, IncidentResolved, "An incident was resolved and the step retried.")
_register(E.ESCALATION_UNCAUGHT, EscalationUncaught, "An escalation was thrown, not caught.")
_register(E.DEPLOYMENT_CREATED, DeploymentCreated, "BPMN/DMN files were deployed together.")
_register(
    E.PROCESS_DEFINITION_DEPLOYED,
    ProcessDefinitionDeployed,
    "A process definition got a new version.",
)
_register(E.MESSAGE_BUFFERED, MessageBuffered, "A message matched no instance and was kept.")
_register(
    E.START_TRIGGER_HELD,
    StartTriggerHeld,
    "A trigger of a parallel multiple start event waits for the others.",
)
_register(E.WORK_ITEM_CREATED, WorkItemCreated, "A user task is waiting for a person.")
_register(E.WORK_ITEM_COMPLETED, WorkItemRef, "A person completed a work item.")
_register(E.WORK_ITEM_CANCELLED, WorkItemRef, "A work item ended without being completed.")
_register(E.WORK_ITEM_CLAIMED, WorkItemAssignee, "A person claimed a work item.")
_register(E.WORK_ITEM_UNCLAIMED, WorkItemAssignee, "A work item was given back to its queue.")
_register(E.WORK_ITEM_DELEGATED, WorkItemAssignee, "A work item was handed to another person.")
_register(E.WORK_ITEM_NOTE_ADDED, WorkItemNoteAdded, "An agent wrote a note on a work item.")
_register(E.AGENT_UPDATED, AgentUpdated, "An agent's skills, languages or capacity were set.")
_register(E.AGENT_PRESENCE_CHANGED, AgentPresenceChanged, "An agent's presence changed.")
_register(E.WORK_ITEM_QUEUED, WorkItemQueued, "Routing queued a work item with its priority.")
_register(E.WORK_ITEM_OFFERED, WorkItemOffered, "Routing offered a work item to an agent.")
_register(E.WORK_ITEM_DECLINED, WorkItemOfferEnded, "An agent declined an offer.")
_register(E.WORK_ITEM_OFFER_EXPIRED, WorkItemOfferEnded, "An offer expired unanswered.")
_register(E.WORK_ITEM_ASSIGNED, WorkItemAssigned, "Routing gave a work item to an agent.")
_register(E.WORK_ITEM_TRANSFERRED, WorkItemTransferred, "A work item moved department.")
_register(E.WORK_ITEM_LEFT_QUEUE, WorkItemLeftQueue, "A work item left the queue, with times.")
_register(E.DEPARTMENT_HANDOFF, DepartmentHandoff, "A case's work passed between departments.")
_register(E.SLA_PAUSED, SlaPause, "A work item's SLA clock stopped (waiting on the customer).")
_register(E.SLA_RESUMED, SlaPause, "A work item's SLA clock runs again.")
_register(E.SLA_BREACHED, SlaBreached, "A work item passed its SLA deadline.")
_register(E.SLA_ESCALATED, SlaEscalated, "An SLA escalation rule acted on a work item.")
_register(E.CONTACT_RECEIVED, ContactReceived, "A contact arrived on a channel.")
_register(E.CONTACT_FAILED, ContactFailed, "A contact could not be processed (dead letter).")
_register(E.CONTACT_IDENTIFIED, NoFields, "A contact was matched to a customer, nothing more.")
_register(E.CONTACT_RECOGNISED, ContactRecognised, "A contact's reason was recognised.")
_register(E.CONTACT_TRIAGE_REQUIRED, ContactTriageRequired, "A contact waits for triage.")
_register(E.CONTACT_MERGED_DUPLICATE, ContactMergedDuplicate, "A contact repeated an earlier one.")
_register(E.CONTACT_SENT, ContactOutbound, "An agent's reply to a contact was sent.")
_register(E.CONTACT_DEFERRED, ContactOutbound, "A reply waits for the end of quiet hours.")
_register(E.CONTACT_DELIVERY, ContactDelivery, "A provider reported an outbound message's state.")
_register(E.CALL_OFFERED, CallEvent, "A customer's call reached the contact centre.")
_register(E.CALL_ANSWERED, CallEvent, "An agent answered a call (their desktop pops the case).")
_register(E.CALL_TRANSFERRED, CallEvent, "A call was transferred to another agent.")
_register(E.CALL_ENDED, CallEvent, "A call ended.")
_register(E.CALL_VOICEMAIL, CallEvent, "A caller left a voicemail (its transcript is a contact).")
_register(E.NOTIFICATION_SENT, Notification, "A customer notification was sent.")
_register(E.NOTIFICATION_DEFERRED, Notification, "A notification waits for quiet hours' end.")
_register(E.REASON_MODEL_TRAINED, ReasonModelTrained, "A contact-reason model was trained.")
_register(E.CASE_OPENED, CaseOpened, "A case was opened for a customer.")
_register(E.CASE_CLOSED, CaseClosed, "A case was closed, with its outcome.")
_register(E.CASE_REOPENED, CaseReopened, "A closed case was opened again.")
_register(E.CASE_FOLLOW_UP_LINKED, CaseFollowUpLinked, "A new case follows a closed one.")
_register(E.CASE_CONTACT_ATTACHED, CaseContactAttached, "A contact was attached to a case.")
_register(E.CASE_STATUS_REQUESTED, CaseStatusRequested, "A customer asked for a case's status.")
_register(E.SURVEY_SENT, SurveySent, "A satisfaction survey was sent for a closed case.")
_register(E.SURVEY_ANSWERED, SurveyAnswered, "A customer answered a survey (CSAT, NPS).")
_register(E.CUSTOMER_CREATED, CustomerCreated, "A customer record was created.")
_register(E.CUSTOMER_UPDATED, CustomerUpdated, "Customer fields changed (from, to).")
_register(E.CUSTOMER_IDENTITY_ADDED, CustomerIdentityAdded, "A customer got an identity.")
_register(E.CUSTOMER_IMPORT_COMPLETED, CustomerImportCompleted, "A customer import finished.")
_register(E.CUSTOMER_MERGED, CustomerMerged, "Two customer records were merged.")
_register(
    E.CUSTOMER_ERASED,
    CustomerErased,
    "A customer's personal data was erased on request (the audit record: who, why, how much).",
)
_register(E.CUSTOMER_UNMERGED, CustomerUnmerged, "A customer merge was undone.")
_register(E.CUSTOMER_PREFERENCES_SET, CustomerPreferencesSet, "Contact preferences were set.")
_register(E.CUSTOMER_CONSENT_SET, CustomerConsentSet, "Consent for a channel was set.")
_register(E.CUSTOMER_REVIEW_REQUESTED, CustomerReviewRequested, "A customer needs a review.")
_register(E.CUSTOMER_REVIEWED, CustomerReviewed, "A customer record was reviewed.")
_register(E.CUSTOMER_FORM_SUBMITTED, CustomerFormSubmitted, "A customer filled a step's form.")
_register(E.CUSTOMER_INFORMATION_ADDED, CustomerInformationAdded, "A customer added information.")
_register(E.CUSTOMER_PHOTO_ADDED, CustomerPhotoAdded, "A customer sent a photo for a case.")
_register(E.USER_CREATED, UserCreated, "A user account was created.")
_register(E.USER_LOGGED_IN, NoFields, "A user signed in.")
_register(
    E.USER_LOCKED_OUT,
    UserLockedOut,
    "Repeated failed logins locked an account for a while (the lock-out notice).",
)
_register(E.USER_UPDATED, UserUpdated, "An administrator changed a user's roles, groups or name.")
_register(E.USER_DEACTIVATED, UserRef, "A user account was deactivated (sessions ended).")
_register(E.USER_REACTIVATED, UserRef, "A deactivated user account was reactivated.")
_register(E.USER_PASSWORD_RESET, UserRef, "An administrator set a new password for a user.")
_register(
    E.WORK_ITEM_PRIORITY_CHANGED,
    WorkItemPriorityChanged,
    "A supervisor changed a work item's priority.",
)
_register(E.ROUTING_BOOSTED, RoutingBoosted, "Routing's score of a queued item was adjusted.")
_register(E.API_KEY_CREATED, ApiKeyCreated, "An API key was issued.")
_register(E.API_KEY_REVOKED, ApiKeyRevoked, "An API key was revoked.")
_register(E.WEBHOOK_CREATED, WebhookCreated, "A webhook subscription was created.")
_register(E.WEBHOOK_DELETED, WebhookDeleted, "A webhook subscription was deleted.")
_register(
    E.EXPERIENCE_BUNDLE_DEPLOYED, ExperienceBundleDeployed, "An experience bundle was deployed."
)
_register(E.KNOWLEDGE_FEEDBACK, KnowledgeFeedback, "An agent rated a knowledge article.")
_register(E.DEMO_OUTBOX_RECEIVED, DemoOutboxReceived, "The demo's mail catcher got a message.")
_register(E.SITUATION_RAISED, SituationChanged, "An event pattern matched: a situation began.")
_register(E.SITUATION_UPDATED, SituationChanged, "More events matched an active situation.")
_register(E.SITUATION_CLEARED, SituationChanged, "A situation was cleared (event or time-out).")
_register(E.SITUATION_ALERT, SituationAlert, "A situation alerted a department.")
_register(E.SITUATION_CONTACT_HELD, SituationContactHeld, "A contact was attached to a situation.")
_register(E.SITUATION_ACTION_DONE, SituationActionDone, "A situation's action ran (once).")
del E


def lookup(name: str) -> EventSpec | None:
    """The registered type of this name, or None."""
    return REGISTRY.get(name)


def cloudevent_type(name: str) -> str:
    """The CloudEvents `type` an event of this type is exported as."""
    spec = REGISTRY.get(name)
    return spec.cloudevent_type if spec is not None else CLOUDEVENT_PREFIX + name


def check(name: str, data: dict[str, Any]) -> None:
    """Raise if `name` is not registered or `data` does not fit its payload's fields."""
    spec = REGISTRY.get(name)
    if spec is None:
        raise UnknownEventType(
            f"event type {name!r} is not registered in flowdesk.core.event_types"
        )
    keys = data.keys()
    missing = spec.required - keys
    extra = () if spec.open else keys - spec.allowed
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"misses {', '.join(sorted(missing))}")
        if extra:
            parts.append(f"has unknown {', '.join(sorted(extra))}")
        raise EventPayloadError(
            f"{name} data {' and '.join(parts)} ({spec.payload.__name__} fields: "
            f"{', '.join(sorted(spec.allowed))})"
        )


#: Whether `NewEvent` checks Flowdesk's events as they are made: on in the test suite
#: (tests/conftest.py) and where FLOWDESK_STRICT_EVENTS is set, off in production, where a
#: check per event would cost the engine's hot path for nothing the tests did not already prove.
STRICT: bool = os.environ.get("FLOWDESK_STRICT_EVENTS", "") not in ("", "0")


def set_strict(on: bool) -> bool:
    """Switch write-time checking of event types and payloads; returns the previous setting."""
    global STRICT
    previous = STRICT
    STRICT = on
    return previous


def markdown() -> str:
    """The registry as a Markdown table (docs/architecture.md, section "Event types")."""
    lines = [
        "| type | CloudEvents type | payload | description |",
        "| --- | --- | --- | --- |",
    ]
    for name in sorted(REGISTRY):
        spec = REGISTRY[name]
        shown = [f if f in spec.required else f"{f}?" for f in _field_names(spec)]
        if spec.open:
            shown.append("...")
        payload = ", ".join(shown) or "-"
        lines.append(
            f"| `{name}` | `{spec.cloudevent_type}` | {spec.payload.__name__}: {payload} "
            f"| {spec.description} |"
        )
    return "\n".join(lines) + "\n"


def _field_names(spec: EventSpec) -> list[str]:
    return [f.name for f in fields(spec.payload)]


def main(argv: list[str]) -> int:
    if argv != ["--markdown"]:
        print("usage: python -m flowdesk.core.event_types --markdown", file=sys.stderr)
        return 2
    sys.stdout.write(markdown())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
