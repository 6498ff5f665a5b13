"""Analytics: process mining over the event log (and, later, KPIs and the scorecard).

The mining functions are pure functions over an `EventLog` table, so they run the same on
Flowdesk's own log (`load_store_log`) and on XES files from other systems (`read_xes`).
"""

from flowdesk.analytics.bottlenecks import Bottleneck, activity_instances, bottlenecks
from flowdesk.analytics.dfg import DirectlyFollowsGraph, Edge, directly_follows
from flowdesk.analytics.endpoints import Endpoints, endpoints
from flowdesk.analytics.export import ocel_from_events, write_ocel_json, write_xes
from flowdesk.analytics.handoffs import Handoff, handoff_matrix, handoffs
from flowdesk.analytics.log import EventLog
from flowdesk.analytics.rework import Rework, ReworkActivity, rework
from flowdesk.analytics.source import events_to_log, load_store_log
from flowdesk.analytics.turnaround import Turnaround, case_durations, turnaround
from flowdesk.analytics.variants import Variant, variant_counts, variants
from flowdesk.analytics.xes import read_xes

__all__ = [
    "Bottleneck",
    "DirectlyFollowsGraph",
    "Edge",
    "Endpoints",
    "EventLog",
    "Handoff",
    "Rework",
    "ReworkActivity",
    "Turnaround",
    "Variant",
    "activity_instances",
    "bottlenecks",
    "case_durations",
    "directly_follows",
    "endpoints",
    "events_to_log",
    "handoff_matrix",
    "handoffs",
    "load_store_log",
    "ocel_from_events",
    "read_xes",
    "rework",
    "turnaround",
    "variant_counts",
    "variants",
    "write_ocel_json",
    "write_xes",
]
