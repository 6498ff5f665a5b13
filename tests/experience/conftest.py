# ruff: noqa: E501
"""A small valid bundle written to a folder, which each test breaks in its own way."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowdesk.engine.testing import cond, wrap

BPMN = wrap(
    f"""
    <bpmn:startEvent id="s"/>
    <bpmn:userTask id="check" name="Check request" camunda:candidateGroups="front-office"/>
    <bpmn:exclusiveGateway id="g" default="f_small"/>
    <bpmn:userTask id="approve" name="Approve" camunda:candidateGroups="billing"/>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="check"/>
    <bpmn:sequenceFlow id="f1" sourceRef="check" targetRef="g"/>
    <bpmn:sequenceFlow id="f_big" sourceRef="g" targetRef="approve">{cond("amount > 100")}</bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_small" sourceRef="g" targetRef="e"/>
    <bpmn:sequenceFlow id="f2" sourceRef="approve" targetRef="e"/>
    """,
    process_id="mini",
)

FLOW = """\
name: mini
title: Mini flow
process: mini
reasons:
  - id: mini-reason
    name: Mini reason
    channels: [phone]
files:
  bpmn: [mini.bpmn]
  knowledge: [knowledge/]
tasks:
  check:
    sla: PT2H
    status: We are checking your request for {{ amount }} EUR.
    panels: [profile, billing]
    knowledge:
      - query: refund limits
        tags: [limits]
    script:
      - id: verified
        question: Is the caller verified?
        variable: verified
        type: boolean
      - id: amount
        question: Amount?
        variable: amount
        type: number
        when: verified = true
      - id: big
        question: Large amount - warn about approval.
        type: info
        when: amount > 100
      - id: stop
        question: Not verified - stop here.
        type: info
        when: verified = false
    form:
      type: object
      required: [verified]
      properties:
        verified: {type: boolean}
        amount: {type: number, minimum: 0}
  approve:
    sla: P1D
    status: Waiting for approval.
    panels: [value]
    script:
      - id: ok
        question: Approve?
        variable: approved
        type: boolean
    form: forms/approve.json
"""

FORM = '{\n  "type": "object",\n  "properties": {"approved": {"type": "boolean"}}\n}\n'

ARTICLE = """\
---
title: Refund limits
reasons: [mini-reason]
steps: [check]
tags: [limits]
---
Refunds over 100 EUR need an approval by billing.
"""


def write_bundle(root: Path, changes: dict[str, str | None] | None = None) -> Path:
    """Write the mini bundle; a change replaces a file's text (None leaves the file out)."""
    files = {
        "flow.yaml": FLOW,
        "mini.bpmn": BPMN,
        "forms/approve.json": FORM,
        "knowledge/limits.md": ARTICLE,
    }
    files.update(changes or {})
    for name, text in files.items():
        if text is None:
            continue
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def bundle_dir(tmp_path: Path) -> Path:
    return write_bundle(tmp_path / "mini")
