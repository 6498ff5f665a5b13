"""BPMN 2.0: safe parsing and deploy-time validation into frozen, JSON-able definitions; SVG.

Usage::

    definitions = parse_bpmn(xml_bytes_or_path, filename="refund.bpmn")  # or BpmnModelError
    process = definitions.process("refund")  # nodes and flows by id, O(1)
    same = Definitions.from_dict(definitions.to_dict())
    svg = render_svg(definitions)  # data-element-id on every element
"""

from flowdesk.bpmn.errors import BpmnModelError
from flowdesk.bpmn.model import Definitions, Node, Process, SequenceFlow
from flowdesk.bpmn.parser import load_bpmn, parse_bpmn
from flowdesk.bpmn.svg import render_svg

__all__ = [
    "BpmnModelError",
    "Definitions",
    "Node",
    "Process",
    "SequenceFlow",
    "load_bpmn",
    "parse_bpmn",
    "render_svg",
]
