"""A bundle with event patterns of every operator, and a flow that waits for its area."""

from __future__ import annotations

from pathlib import Path

from flowdesk.engine.testing import wrap

MESSAGE = """
  <bpmn:message id="m_restored" name="area-restored">
    <bpmn:extensionElements><zeebe:subscription correlationKey="=area"/></bpmn:extensionElements>
  </bpmn:message>"""

BPMN = wrap(
    """
    <bpmn:startEvent id="s"/>
    <bpmn:intermediateCatchEvent id="restored">
      <bpmn:messageEventDefinition messageRef="m_restored"/>
    </bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="restored"/>
    <bpmn:sequenceFlow id="f1" sourceRef="restored" targetRef="e"/>
    """,
    process_id="outage_wait",
    extra=MESSAGE,
)

FLOW = """\
name: outage
process: outage_wait
reasons:
  - id: no-internet
    name: No internet
    channels: [web, email]
files:
  bpmn: [outage.bpmn]
"""

PATTERNS = """\
patterns:
  - id: area-outage
    key: data.area
    match:
      threshold: {event: network.node_down, at_least: 3, within: PT10M}
    situation:
      title: '"Outage in " + key'
      clear: network.node_up
    actions:
      - notify_customers:
          customers: customer.area = key and list contains(customer.products, "broadband")
          text: '"We know about the outage in " + key + "; we are on it."'
      - alert: {department: network-operations}
      - hold_contacts:
          customers: customer.area = key
          reasons: [no-internet]
      - on: cleared
        correlate: {message: area-restored}
      - on: cleared
        start_flow: {process: outage_wait, per: customer, customers: customer.area = key}
  - id: failed-after-order
    key: data.order
    match:
      sequence:
        steps: [order.placed, {event: payment.failed, where: data.amount > 10}]
        within: PT1H
    actions:
      - alert: {department: billing}
  - id: not-shipped
    key: data.order
    match:
      absence: {first: order.placed, then_not: order.shipped, within: PT2H}
  - id: revenue
    key: data.shop
    match:
      threshold:
        event: sale
        window: tumbling
        within: PT1H
        function: sum
        of: data.amount
        at_least: 100
  - id: busy-devices
    match:
      threshold:
        {event: device.seen, function: distinct, of: data.device, within: PT5M, at_least: 3}
    situation: {timeout: PT30M}
"""


def write(root: Path, patterns: str = PATTERNS) -> Path:
    (root / "patterns").mkdir(parents=True, exist_ok=True)
    (root / "flow.yaml").write_text(FLOW)
    (root / "outage.bpmn").write_text(BPMN)
    (root / "patterns" / "rules.yaml").write_text(patterns)
    return root
