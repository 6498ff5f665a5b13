"""The heatmap is a pure function of a model and numbers: tints on a sequential scale, the
numbers on the shapes and flows, a legend; the plain diagram is unchanged without an overlay."""

from __future__ import annotations

import re

import pytest
from tests.runtime.conftest import DATA

from flowdesk.analytics.heatmap import (
    SCALE,
    colour_of,
    element_durations,
    format_seconds,
    heatmap_svg,
)
from flowdesk.analytics.log import EventLog
from flowdesk.bpmn import load_bpmn
from flowdesk.bpmn.svg import Overlay, render_svg


def luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def test_the_scale_is_sequential_and_keeps_labels_readable() -> None:
    colours = [colour_of(v, 0, 100) for v in range(0, 101, 5)]
    lum = [luminance(c) for c in colours]
    assert lum == sorted(lum, reverse=True)  # darker as the value grows
    assert colours[0] == SCALE[0] and colours[-1] == SCALE[-1]
    text = luminance("#22242a")
    assert min((v + 0.05) / (text + 0.05) for v in lum) >= 4.5
    assert colour_of(7, 7, 7) == SCALE[-1]
    assert colour_of(-5, 0, 10) == SCALE[0] and colour_of(50, 0, 10) == SCALE[-1]


def test_heatmap_tints_counts_flows_and_legend() -> None:
    definitions = load_bpmn(DATA / "refund.bpmn")
    svg = heatmap_svg(
        definitions,
        values={"capture": 40, "approve": 10, "issue": 40, "notify": 0, "nowhere": 5},
        flow_counts={"f_large": 10, "f_small": 30},
    )
    groups = dict(
        re.findall(r'<g class="[^"]*" data-element-id="([^"]+)" [^>]*>(.*?)</g>', svg, re.S)
    )
    assert f"fill:{SCALE[-1]}" in groups["capture"] and ">40</text>" in groups["capture"]
    assert f"fill:{SCALE[0]}" in groups["approve"] and ">10</text>" in groups["approve"]
    assert "fill:" not in groups["notify"] and "bpmn-badge" not in groups["notify"]
    assert "nowhere" not in svg
    labels = dict(
        re.findall(r'data-element-id="([^"]+)">.*?class="bpmn-flow-count"[^>]*>([^<]*)<', svg)
    )
    assert labels["f_large"] == "10" and labels["f_small"] == "30" and labels["f_end"] == "0"
    legend = re.findall(r'class="bpmn-legend"[^>]*>([^<]*)<', svg)
    assert legend[1:] == ["10", "18", "25", "32", "40"]
    assert 'role="img"' in svg and "aria-label=" in svg
    assert svg == heatmap_svg(
        definitions,
        values={"capture": 40, "approve": 10, "issue": 40, "notify": 0, "nowhere": 5},
        flow_counts={"f_large": 10, "f_small": 30},
    )


def test_duration_heatmap_prints_durations() -> None:
    definitions = load_bpmn(DATA / "refund.bpmn")
    svg = heatmap_svg(
        definitions, measure="duration", values={"capture": 90.0, "approve": 7200.0}, flow_counts={}
    )
    assert ">90s</text>" in svg and ">2.0h</text>" in svg
    assert [format_seconds(v) for v in (None, 59, 600, 9000, 259200)] == [
        "-",
        "59s",
        "10.0m",
        "2.5h",
        "3.0d",
    ]


def test_element_durations_by_id_and_by_name() -> None:
    process = load_bpmn(DATA / "refund.bpmn").process("refund")
    rows = []
    for case, minutes in (("1", 10), ("2", 30)):
        for lifecycle, at in (("start", 0), ("complete", minutes)):
            rows.append(
                {
                    "case": case,
                    "activity": "Capture Request",
                    "element_id": "capture",
                    "lifecycle": lifecycle,
                    "timestamp": f"2025-01-01T09:{at:02d}:00Z",
                }
            )
    log = EventLog.from_records(rows)
    assert element_durations(log, process) == {"capture": 1200.0}
    assert element_durations(log, process, match="name") == {"capture": 1200.0}
    assert element_durations(log.completions(), process) == {}


def test_the_plain_diagram_is_unchanged_and_bad_colours_are_refused() -> None:
    definitions = load_bpmn(DATA / "support_case.bpmn")
    plain = render_svg(definitions)
    assert render_svg(definitions, None) == plain
    assert "bpmn-badge" not in plain and "role=" not in plain
    with pytest.raises(ValueError, match="rrggbb"):
        Overlay(fills={"triage": "red;stroke:url(javascript:x)"})
