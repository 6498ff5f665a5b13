"""Flowdesk: customer process management.

BPMN experience flows, DMN/FEEL rules, omnichannel intake, one queue and one event log.
"""

__version__ = "0.1.0"
