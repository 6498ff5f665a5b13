"""Property tests: hit policies of one random table agree with each other as the spec says.

For a table of `> t` / `<= t` rules over one number input: R lists the outputs of the matching
rules in rule order; F is R's first; C is R; C+ / C< / C> / C# are sum / min / max / number of
distinct values of R; U is R's only element (null with several); O is R sorted by outputValues.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from flowdesk.dmn import load_model

NS = "https://www.omg.org/spec/DMN/20230324/MODEL/"
PRIORITY = [Decimal(v) for v in (30, 20, 10, 0)]  # outputValues order: 30 highest


def xml(hit_policy: str, rules: list[tuple[str, int, int]], aggregation: str = "") -> str:
    agg = f' aggregation="{aggregation}"' if aggregation else ""
    out_values = "" if aggregation else "<outputValues><text>30, 20, 10, 0</text></outputValues>"
    body = "".join(
        f"<rule><inputEntry><text>{op} {t}</text></inputEntry>"
        f"<outputEntry><text>{o}</text></outputEntry></rule>"
        for op, t, o in rules
    )
    return (
        f'<definitions xmlns="{NS}" id="x" name="p" namespace="http://example.com/p">'
        '<inputData id="i" name="x"><variable name="x" typeRef="number"/></inputData>'
        '<decision id="d" name="D"><informationRequirement><requiredInput href="#i"/>'
        f'</informationRequirement><decisionTable hitPolicy="{hit_policy}"{agg}>'
        '<input><inputExpression typeRef="number"><text>x</text></inputExpression></input>'
        f'<output name="o" typeRef="number">{out_values}</output>{body}'
        "</decisionTable></decision></definitions>"
    )


RULES = st.lists(
    st.tuples(
        st.sampled_from(["&gt;", "&lt;="]),
        st.integers(-5, 5),
        st.sampled_from([0, 10, 20, 30]),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=40, deadline=None)
@given(rules=RULES, x=st.integers(-6, 6))
def test_hit_policies_agree(rules: list[tuple[str, int, int]], x: int) -> None:
    def decide(hit_policy: str, aggregation: str = "") -> object:
        return load_model(xml(hit_policy, rules, aggregation)).evaluate("D", {"x": x}).value

    expected = [Decimal(o) for op, t, o in rules if (x > t if op == "&gt;" else x <= t)]
    assert decide("RULE ORDER") == expected
    assert decide("COLLECT") == expected
    assert decide("FIRST") == (expected[0] if expected else None)
    assert decide("UNIQUE") == (expected[0] if len(expected) == 1 else None)
    assert decide("ANY") == (expected[0] if expected and len(set(expected)) == 1 else None)
    assert decide("OUTPUT ORDER") == sorted(expected, key=PRIORITY.index)
    assert decide("PRIORITY") == (min(expected, key=PRIORITY.index) if expected else None)
    assert decide("COLLECT", "SUM") == (sum(expected) if expected else None)
    assert decide("COLLECT", "MIN") == (min(expected) if expected else None)
    assert decide("COLLECT", "MAX") == (max(expected) if expected else None)
    assert decide("COLLECT", "COUNT") == len(set(expected))
