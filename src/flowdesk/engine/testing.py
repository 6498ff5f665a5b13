"""Helpers for writing engine scenarios with inline BPMN (tests, examples, embedding users)."""

from __future__ import annotations

HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
    'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs" '
    'targetNamespace="http://flowdesk.example/tests">\n'
)


def wrap(body: str, *, process_id: str = "p", extra: str = "") -> str:
    """A Camunda-Modeler-like document around a process body (plus messages, errors ...)."""
    return (
        f'{HEADER}{extra}\n  <bpmn:process id="{process_id}" isExecutable="true">\n'
        f"{body}\n  </bpmn:process>\n</bpmn:definitions>\n"
    )


def cond(expr: str) -> str:
    """A conditionExpression element with the text XML-escaped."""
    escaped = expr.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return (
        '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">'
        f"{escaped}</bpmn:conditionExpression>"
    )
