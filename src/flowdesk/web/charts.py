"""Charts as inline SVG, drawn on the server: no chart library fetched by the browser, the
pages work without JavaScript, and each chart carries a title and description for screen
readers (the same figures are in the table beside it and in the CSV export)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape
from typing import Literal

from markupsafe import Markup

Format = Literal["count", "percent", "hours", "minutes", "score"]
PALETTE = ("#0b5cad", "#c2410c", "#1e6b34", "#7c3aed", "#a4161a", "#0f766e", "#92400e")
Point = tuple[str, float | None]


def fmt(value: float | None, kind: Format) -> str:
    if value is None:
        return "-"
    if kind == "percent":
        return f"{value * 100:.0f}%"
    if kind == "hours":
        return f"{value:.1f} h"
    if kind == "minutes":
        return f"{value:.0f} min"
    if kind == "score":
        return f"{value:.1f}"
    return f"{value:,.0f}"


def _nice_max(value: float, kind: Format) -> float:
    if kind == "percent":
        return 1.0
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(value)


def short_label(label: str) -> str:
    """'2026-11-23' -> '23 Nov' (axis labels must not overlap); other labels unchanged."""
    try:
        day = date.fromisoformat(label)
    except ValueError:
        return label
    return f"{day.day} {day.strftime('%b')}"


def _no_data(width: int, height: int) -> str:
    return (
        f'<text x="{width / 2:.0f}" y="{height / 2:.0f}" text-anchor="middle" font-size="14" '
        'fill="#5b6472">No data in this period</text>'
    )


def _svg(width: int, height: int, title: str, description: str, body: list[str]) -> Markup:
    return Markup(
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title><desc>{escape(description)}</desc>"
        + "".join(body)
        + "</svg>"
    )


def line_chart(
    series: Sequence[tuple[str, Sequence[Point]]],
    *,
    title: str,
    kind: Format = "count",
    width: int = 640,
    height: int = 240,
) -> Markup:
    """One line per series over shared x labels; gaps where a value is None."""
    left, right, top, bottom = 56, 12, 16, 44
    labels = [label for label, _ in series[0][1]] if series else []
    values = [v for _, points in series for _, v in points if v is not None]
    top_value = _nice_max(max(values, default=0.0), kind)
    low_value = min(0.0, min(values, default=0.0))
    plot_w, plot_h = width - left - right, height - top - bottom
    span = (top_value - low_value) or 1.0

    def x(i: int) -> float:
        return left + (plot_w * i / max(len(labels) - 1, 1))

    def y(v: float) -> float:
        return top + plot_h * (1 - (v - low_value) / span)

    body: list[str] = []
    if not values:
        body.append(_no_data(width, height))
    divisions = 5 if kind != "percent" and (span / 4) % 1 and not (span / 5) % 1 else 4
    for tick in range(divisions + 1):
        level = low_value + span * tick / divisions
        body.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(level):.1f}" y2="{y(level):.1f}" '
            f'stroke="#e3e7ee"/><text x="{left - 6}" y="{y(level) + 4:.1f}" text-anchor="end" '
            f'font-size="11" fill="#5b6472">{escape(fmt(level, kind))}</text>'
        )
    every = max(1, -(-len(labels) // 7))
    for i, label in enumerate(labels):
        if i % every == 0:
            body.append(
                f'<text x="{x(i):.1f}" y="{height - bottom + 16}" text-anchor="middle" '
                f'font-size="11" fill="#5b6472">{escape(short_label(label))}</text>'
            )
    summary = []
    for n, (name, points) in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        segments: list[list[str]] = [[]]
        for i, (label, value) in enumerate(points):
            if value is None:
                segments.append([])
                continue
            segments[-1].append(f"{x(i):.1f},{y(value):.1f}")
            tip = f"{name} {label}: {fmt(value, kind)}"
            body.append(
                f'<circle cx="{x(i):.1f}" cy="{y(value):.1f}" r="3" fill="{colour}">'
                f"<title>{escape(tip)}</title></circle>"
            )
        for segment in segments:
            if len(segment) > 1:
                body.append(
                    f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                    f'points="{" ".join(segment)}"/>'
                )
        legend_x = left + n * 150
        body.append(
            f'<rect x="{legend_x}" y="{height - 16}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{legend_x + 14}" y="{height - 7}" font-size="11">{escape(name)}</text>'
        )
        last = next((v for _, v in reversed(points) if v is not None), None)
        summary.append(f"{name}: latest {fmt(last, kind)}")
    return _svg(width, height, title, "; ".join(summary) or "no data", body)


def bar_chart(
    bars: Sequence[Point],
    *,
    title: str,
    kind: Format = "count",
    width: int = 640,
    bar_height: int = 22,
    colour: str = PALETTE[0],
) -> Markup:
    """Horizontal bars with their value written at the end (reads well with long labels)."""
    label_w, gap = 170, 6
    height = max(1, len(bars)) * (bar_height + gap) + 8
    top_value = _nice_max(max((v or 0.0 for _, v in bars), default=0.0), kind)
    plot_w = width - label_w - 70
    body = [] if bars else [_no_data(width, 60)]
    height = max(height, 60)
    for i, (label, value) in enumerate(bars):
        y = 4 + i * (bar_height + gap)
        length = plot_w * (value or 0.0) / top_value if top_value else 0.0
        body.append(
            f'<text x="{label_w - 6}" y="{y + bar_height * 0.7:.1f}" text-anchor="end" '
            f'font-size="12">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{max(length, 0.0):.1f}" height="{bar_height}" '
            f'fill="{colour}" rx="2"><title>{escape(label)}: {escape(fmt(value, kind))}</title>'
            f'</rect><text x="{label_w + length + 6:.1f}" y="{y + bar_height * 0.7:.1f}" '
            f'font-size="12">{escape(fmt(value, kind))}</text>'
        )
    description = "; ".join(f"{label}: {fmt(value, kind)}" for label, value in bars)
    return _svg(width, height, title, description or "no data", body)


def funnel_chart(steps: Sequence[tuple[str, int]], *, title: str, width: int = 640) -> Markup:
    """Centred bars narrowing step by step, each with its count and share of the step before."""
    bar_h, gap = 30, 6
    height = max(1, len(steps)) * (bar_h + gap) + 8
    first = max((count for _, count in steps), default=0) or 1
    body = []
    previous: int | None = None
    for i, (name, count) in enumerate(steps):
        w = max(2.0, (width - 260) * count / first)
        x0 = 130 + ((width - 260) - w) / 2
        y = 4 + i * (bar_h + gap)
        share = "" if not previous else f" ({count / previous:.0%})"
        body.append(
            f'<rect x="{x0:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" '
            f'fill="{PALETTE[i % len(PALETTE)]}" rx="3"/>'
            f'<text x="124" y="{y + bar_h * 0.65:.1f}" text-anchor="end" font-size="12">'
            f"{escape(name)}</text>"
            f'<text x="{width - 124}" y="{y + bar_h * 0.65:.1f}" font-size="12">'
            f"{count:,}{escape(share)}</text>"
        )
        previous = count
    description = "; ".join(f"{name}: {count}" for name, count in steps)
    return _svg(width, height, title, description or "no data", body)


def sparkline(values: Sequence[float | None], *, title: str, kind: Format = "count") -> Markup:
    """A small trend line for a scorecard measure (last point marked)."""
    width, height, pad = 120, 32, 4
    known = [(i, v) for i, v in enumerate(values) if v is not None]
    if not known:
        return _svg(width, height, title, "no data", [])
    low = min(v for _, v in known)
    high = max(v for _, v in known)
    span = (high - low) or 1.0

    def point(i: int, v: float) -> tuple[float, float]:
        x = pad + (width - 2 * pad) * i / max(len(values) - 1, 1)
        return x, height - pad - (height - 2 * pad) * (v - low) / span

    coords = [point(i, v) for i, v in known]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    last_x, last_y = coords[-1]
    body = [
        f'<polyline fill="none" stroke="{PALETTE[0]}" stroke-width="1.5" points="{path}"/>',
        f'<circle cx="{last_x:.1f}" cy="{last_y:.1f}" r="2.5" fill="{PALETTE[0]}"/>',
    ]
    description = ", ".join(fmt(v, kind) for _, v in known)
    return _svg(width, height, title, description, body)


def matrix_chart(
    labels: Sequence[str],
    cells: dict[tuple[str, str], tuple[int, str]],
    *,
    title: str,
    cell: int = 64,
) -> Markup:
    """A from x to matrix (rows send, columns receive): each cell shaded by its count, with the
    count and a second line (`cells[(row, col)] = (count, note)`). A chord diagram would hide
    small flows behind big ones; a matrix shows every pair and reads in a screen reader."""
    label_w, head_h = 150, 90
    n = len(labels)
    width, height = label_w + max(n, 1) * cell + 10, head_h + max(n, 1) * cell + 10
    if not labels or not cells:
        return _svg(label_w + 300, 60, title, "no data", [_no_data(label_w + 300, 60)])
    top = max(count for count, _ in cells.values()) or 1
    body: list[str] = []
    for j, label in enumerate(labels):
        x = label_w + j * cell + cell / 2
        body.append(
            f'<text x="{x:.0f}" y="{head_h - 6}" font-size="12" text-anchor="start" '
            f'transform="rotate(-40 {x:.0f} {head_h - 6})">{escape(label)}</text>'
        )
    for i, source in enumerate(labels):
        y = head_h + i * cell
        body.append(
            f'<text x="{label_w - 6}" y="{y + cell / 2 + 4:.0f}" text-anchor="end" '
            f'font-size="12">{escape(source)}</text>'
        )
        for j, target in enumerate(labels):
            x = label_w + j * cell
            count, note = cells.get((source, target), (0, ""))
            shade = 0.08 + 0.85 * count / top if count else 0.0
            fill = PALETTE[0] if count else "#f1f3f5"
            ink = "#ffffff" if shade > 0.5 else "#1f2933"
            tip = f"{source} to {target}: {count:,} hand-offs" + (f", {note}" if note else "")
            body.append(
                f'<rect x="{x + 1}" y="{y + 1}" width="{cell - 2}" height="{cell - 2}" '
                f'fill="{fill}" fill-opacity="{shade if count else 1:.2f}">'
                f"<title>{escape(tip)}</title></rect>"
            )
            if count:
                body.append(
                    f'<text x="{x + cell / 2:.0f}" y="{y + cell / 2:.0f}" text-anchor="middle" '
                    f'font-size="13" fill="{ink}">{count:,}</text>'
                    f'<text x="{x + cell / 2:.0f}" y="{y + cell / 2 + 15:.0f}" '
                    f'text-anchor="middle" font-size="10" fill="{ink}">{escape(note)}</text>'
                )
    description = "; ".join(
        f"{s} to {t}: {count}" + (f" ({note})" if note else "")
        for (s, t), (count, note) in cells.items()
    )
    return _svg(width, height, title, description, body)
