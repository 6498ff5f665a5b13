"""The heatmap: the process diagram with each flow node tinted by how often it ran (or how long
it took on average), its number printed on it, and each sequence flow labelled with how often a
token went along it.

Process owners read a model, not a table: putting the numbers on the diagram they drew shows at a
glance which path most cases take and where time goes. Flow counts come from the token replay
(`VersionConformance.flow_counts`), which knows which branch of a gateway each case took; two
consecutive activities alone cannot say that when a gateway sits between them. The colour scale
is sequential (light yellow to orange) and never darker than what keeps the dark label text at a
contrast of 4.5:1 or more; the legend under the diagram gives the values of its five stops.
Everything is inline SVG (no script, font or image is fetched), so the file works anywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import polars as pl

from flowdesk.analytics.bottlenecks import activity_instances
from flowdesk.analytics.conformance import Match, normalise_name
from flowdesk.analytics.log import ACTIVITY, EventLog
from flowdesk.bpmn.model import Definitions, Process
from flowdesk.bpmn.svg import Overlay, render_svg

Measure = Literal["frequency", "duration"]
MEASURES: tuple[Measure, ...] = ("frequency", "duration")
#: Sequential scale, light to dark; #22242a text keeps >= 4.5:1 contrast on every colour of it.
SCALE = ("#fff7bc", "#fee391", "#fec44f", "#fe9929", "#ec7014")


def format_seconds(value: float | None) -> str:
    """A duration as a short figure: 45s, 12.5m, 3.2h, 4.1d ('-' for none)."""
    if value is None:
        return "-"
    if value < 120:
        return f"{value:.0f}s"
    if value < 7200:
        return f"{value / 60:.1f}m"
    if value < 172800:
        return f"{value / 3600:.1f}h"
    return f"{value / 86400:.1f}d"


def format_count(value: float) -> str:
    return f"{int(round(value)):,}"


def colour_of(value: float, low: float, high: float) -> str:
    """The scale's colour for `value` in [low, high], interpolated between its stops."""
    if high <= low:
        return SCALE[-1]
    position = min(max((value - low) / (high - low), 0.0), 1.0) * (len(SCALE) - 1)
    index = min(int(position), len(SCALE) - 2)
    t = position - index
    a, b = _rgb(SCALE[index]), _rgb(SCALE[index + 1])
    mixed = tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))
    return "#{:02x}{:02x}{:02x}".format(*mixed)


def _rgb(colour: str) -> tuple[int, int, int]:
    return (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))


def element_durations(
    log: EventLog, process: Process, *, match: Match = "element"
) -> dict[str, float]:
    """Mean seconds from an element's activation to its completion, by element id.

    Needs start events (Flowdesk's element.activated, XES lifecycle start); a log of completions
    only has no durations and gives an empty map. With `match="name"` activities are matched
    to element names as the conformance check does.
    """
    events = log.events
    if match == "element":
        if "element_id" not in events.columns:
            return {}
        events = events.filter(pl.col("element_id").is_not_null()).with_columns(
            pl.col("element_id").alias(ACTIVITY)
        )
    else:
        by_name = {
            normalise_name(node.name): node.id
            for node in reversed(list(process.nodes.values()))
            if node.name
        }
        seen = events.get_column(ACTIVITY).unique().to_list()
        mapping = {name: by_name.get(normalise_name(name)) for name in seen}
        element = pl.col(ACTIVITY).replace_strict(mapping, default=None, return_dtype=pl.String)
        events = events.with_columns(element.alias(ACTIVITY)).filter(pl.col(ACTIVITY).is_not_null())
    matched = EventLog(events, log.cases)
    if not matched.has_lifecycle_starts():
        return {}
    per = (
        activity_instances(matched)
        .group_by(ACTIVITY)
        .agg(pl.col("working").mean().alias("mean"))
        .filter(pl.col("mean").is_not_null())
    )
    return {str(e): float(v) for e, v in per.iter_rows() if e in process.nodes}


def heatmap_overlay(
    process: Process,
    *,
    measure: Measure,
    values: Mapping[str, float],
    flow_counts: Mapping[str, int],
    deviations: Mapping[str, int] | None = None,
    figures: str | None = None,
) -> Overlay:
    """Fills, badges and tooltips for the elements of `process` that have a value; every flow of
    the process labelled with its count (flows never taken show 0); the legend. `deviations`
    (element -> cases that deviate there) marks badges with a ✗ count and says so in the
    tooltip; `figures` (fitness, precision) goes into the title."""
    off = {e: n for e, n in (deviations or {}).items() if e in process.nodes and n > 0}
    shown = {e: v for e, v in values.items() if e in process.nodes}
    if measure == "frequency":
        shown = {e: v for e, v in shown.items() if v > 0}
    text = format_count if measure == "frequency" else format_seconds
    low = min(shown.values(), default=0.0)
    high = max(shown.values(), default=0.0)
    fills = {e: colour_of(v, low, high) for e, v in shown.items()}
    badges = {e: text(v) for e, v in shown.items()}
    titles = {}
    for element, value in shown.items():
        node = process.nodes[element]
        what = "completions" if measure == "frequency" else "mean duration"
        titles[element] = f"{node.name or node.id}: {text(value)} ({what})"
    for element, cases in off.items():
        node = process.nodes[element]
        badges[element] = f"{badges[element]} ✗{cases}" if element in badges else f"✗{cases}"
        base = titles.get(element, node.name or node.id)
        titles[element] = f"{base}; {cases} case(s) deviate here"
    flows = {
        f.id: format_count(flow_counts.get(f.id, 0))
        for f in process.flows.values()
        if f.source in process.nodes and process.nodes[f.source].scope == process.id
    }
    if shown:
        stops = [low + (high - low) * i / (len(SCALE) - 1) for i in range(len(SCALE))]
        legend = tuple((colour_of(v, low, high), text(v)) for v in stops)
        if high <= low:
            legend = ((SCALE[-1], text(high)),)
    else:
        legend = ()
    title = (
        "Completions per element; flows labelled with how often they were taken"
        if measure == "frequency"
        else "Mean duration (activation to completion) per element; flows labelled with counts"
    )
    if not shown:
        title += " (no values in the log)"
    if off:
        title += "; ✗ cases deviating at an element"
    if figures:
        title += f" ({figures})"
    return Overlay(
        fills=fills,
        badges=badges,
        titles=titles,
        flow_labels=flows,
        legend=legend,
        legend_title=title,
        title=f"Heatmap of {process.name or process.id}: {title.lower()}",
    )


def heatmap_svg(
    definitions: Definitions,
    *,
    measure: Measure = "frequency",
    values: Mapping[str, float],
    flow_counts: Mapping[str, int],
    process_id: str | None = None,
    deviations: Mapping[str, int] | None = None,
    figures: str | None = None,
) -> str:
    """The diagram of `definitions` (its process `process_id`, else the executable one) with the
    heatmap overlay: a pure function of the model and the numbers."""
    process = definitions.process(process_id)
    overlay = heatmap_overlay(
        process,
        measure=measure,
        values=values,
        flow_counts=flow_counts,
        deviations=deviations,
        figures=figures,
    )
    return render_svg(definitions, overlay)
