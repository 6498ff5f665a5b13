"""Analytics: process mining over the event log (and, later, KPIs and the scorecard).

The mining functions are pure functions over an `EventLog` table, so they run the same on
Flowdesk's own log (`source.load_store_log`) and on XES files from other systems (`xes.read_xes`).
"""

from flowdesk.analytics.dfg import DirectlyFollowsGraph, Edge, directly_follows
from flowdesk.analytics.endpoints import Endpoints, endpoints
from flowdesk.analytics.log import EventLog
from flowdesk.analytics.variants import Variant, variants
from flowdesk.analytics.xes import read_xes

__all__ = [
    "DirectlyFollowsGraph",
    "Edge",
    "Endpoints",
    "EventLog",
    "Variant",
    "directly_follows",
    "endpoints",
    "read_xes",
    "variants",
]
