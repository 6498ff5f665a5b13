"""Event patterns (complex event processing): rules over the event stream raise situations.

Pure: rules are compiled from parsed YAML (`rules.parse_rules`), the engine (`engine.Engine`)
takes events one at a time and answers situation changes; its state is JSON-able per partition
so the durable consumer at the edge (`flowdesk.situations`) can store it. See docs/patterns.md.
"""

from flowdesk.cep.engine import Change, Engine, Event
from flowdesk.cep.rules import Rule, RuleError, RuleIssue, compile_rules, parse_rules

__all__ = [
    "Change",
    "Engine",
    "Event",
    "Rule",
    "RuleError",
    "RuleIssue",
    "compile_rules",
    "parse_rules",
]
