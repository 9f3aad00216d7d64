"""[parent] The class report's pictures as plain inline SVG: score histograms and request timelines.

Drawn here in a few lines of Python rather than with a charting library: the
report must open with no network (no script from a CDN), a JS charting library
inlined would weigh more than the whole page, and these two pictures are
rectangles and one step line. Every number is ours; the only text drawn is
numbers and words written here, so the SVG holds nothing a submission controls.
Inline in HTML an <svg> needs no xmlns, so the page names no URL at all.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from grader.reports.feedback import format_points
from grader.results import Timeline

HISTOGRAM_BINS = 10  # at most; fewer when an assignment is worth fewer points
_BAR = "#4a78c2"
_UNANSWERED = "#c24a4a"
_LINE = "#2b8a3e"


def _number(value: float) -> str:
    """A coordinate: short, and never `nan` or an exponent."""
    return format(round(value, 2), "f").rstrip("0").rstrip(".") or "0"


@dataclass(frozen=True)
class Bin:
    """Scores from `low` to `high` (the last bin includes `high`) and how many fell there."""

    low: float
    high: float
    count: int


def bins(scores: Sequence[float], max_score: float, most: int = HISTOGRAM_BINS) -> list[Bin]:
    """Equal-width bins from 0 to `max_score` (one per point when it is small)."""
    count = max(1, min(most, math.ceil(max_score))) if max_score > 0 else 1
    width = max_score / count if max_score > 0 else 1.0
    tallies = [0] * count
    for score in scores:
        index = int(score / width) if width else 0
        tallies[min(max(index, 0), count - 1)] += 1
    return [Bin(i * width, (i + 1) * width, tallies[i]) for i in range(count)]


def histogram(scores: Sequence[float], max_score: float, *, label: str) -> Markup:
    """A bar chart of how many submissions scored in each bin, with the axis labelled."""
    table = bins(scores, max_score)
    width, height, left, bottom, top = 320, 150, 28, 22, 10
    plot_w, plot_h = width - left - 16, height - bottom - top
    tallest = max((b.count for b in table), default=0) or 1
    step = plot_w / len(table)
    parts = [f'<svg class="histogram" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{Markup.escape(label)}">']
    for i, b in enumerate(table):
        bar_h = plot_h * b.count / tallest
        x, y = left + i * step, top + plot_h - bar_h
        parts.append(f'<rect x="{_number(x + 1)}" y="{_number(y)}" width="{_number(step - 2)}" '
                     f'height="{_number(bar_h)}" fill="{_BAR}"><title>'
                     f'{format_points(b.low)}–{format_points(b.high)}: {b.count}</title></rect>')
        if b.count:
            parts.append(f'<text x="{_number(x + step / 2)}" y="{_number(y - 2)}" '
                         f'text-anchor="middle" font-size="10">{b.count}</text>')
    axis_y = top + plot_h
    parts.append(f'<line x1="{left}" y1="{_number(axis_y)}" x2="{_number(left + plot_w)}" '
                 f'y2="{_number(axis_y)}" stroke="#555"/>')
    for value, x in ((0.0, left), (max_score, left + plot_w)):
        parts.append(f'<text x="{_number(x)}" y="{_number(axis_y + 14)}" text-anchor="middle" '
                     f'font-size="10">{format_points(value)}</text>')
    parts.append(f'<text x="4" y="{_number(top + 8)}" font-size="10">{tallest}</text></svg>')
    return Markup("".join(parts))


Pairs = list[tuple[float, float | None]]


def _pairs(timeline: Timeline) -> Pairs:
    """(sent, answered) as drawn: results.json's [sent, answered] lists, sent never None."""
    return [(float(sent or 0.0), answered) for sent, answered in timeline]


def in_flight(timeline: Timeline) -> list[tuple[float, int]]:
    """How many requests were waiting for an answer, as steps: (time, count from then on).

    A send at the same moment as an answer is counted first, as the fake web
    counts (a request arrives, then the held answers go); a request never
    answered stays in flight to the end.
    """
    pairs = _pairs(timeline)
    changes = sorted([(sent, 1) for sent, _ in pairs]
                     + [(answered, -1) for _, answered in pairs if answered is not None],
                     key=lambda change: (change[0], -change[1]))
    steps: list[tuple[float, int]] = []
    count = 0
    for at, delta in changes:  # changes at one moment stay apart: the peak between is real
        count += delta
        steps.append((at, count))
    return steps


def peak_in_flight(timeline: Timeline) -> int:
    return max((count for _, count in in_flight(timeline)), default=0)


def timeline_svg(timeline: Timeline, *, label: str) -> Markup:
    """One bar per request, from sent to answered, and the number in flight below it.

    Overlapping requests stack as a block of bars side by side in time; a
    sequential solution draws a staircase and an in-flight line that never
    leaves 1.
    """
    pairs = _pairs(timeline)
    width, left, right = 640, 34, 10
    plot_w = width - left - right
    rows = max(len(pairs), 1)
    bar_h = max(2.0, min(10.0, 240 / rows))
    bars_h = rows * bar_h
    flight_h = 60
    top, gap, bottom = 6, 14, 18
    height = top + bars_h + gap + flight_h + bottom
    answered = [a for _, a in pairs if a is not None]
    end = max([*answered, *(s for s, _ in pairs), 0.0])
    span = end if end > 0 else 1.0

    def x_at(seconds: float) -> float:
        return left + plot_w * seconds / span

    parts = [f'<svg class="timeline" width="{width}" '
             f'height="{_number(height)}" viewBox="0 0 {width} {_number(height)}" role="img" '
             f'aria-label="{Markup.escape(label)}">']
    for row, (sent, done) in enumerate(pairs):
        stop = end if done is None else done
        x1 = x_at(sent)
        bar_w = max(x_at(stop) - x1, 1.0)
        colour = _UNANSWERED if done is None else _BAR
        said = "never answered" if done is None else f"answered {done:.3f} s"
        parts.append(f'<rect class="request" x="{_number(x1)}" '
                     f'y="{_number(top + row * bar_h)}" width="{_number(bar_w)}" '
                     f'height="{_number(max(bar_h - 1, 1))}" fill="{colour}"><title>request '
                     f'{row + 1}: sent {sent:.3f} s, {said}</title></rect>')
    steps = in_flight(timeline)
    peak = max((count for _, count in steps), default=0) or 1
    base = top + bars_h + gap + flight_h
    points = [f"{_number(left)},{_number(base)}"]
    for at, count in steps:
        y = base - flight_h * count / peak
        points.append(f"{_number(x_at(at))},{points[-1].split(',')[1]}")
        points.append(f"{_number(x_at(at))},{_number(y)}")
    points.append(f"{_number(x_at(end))},{points[-1].split(',')[1]}")
    parts.append(f'<polyline class="in-flight" points="{" ".join(points)}" fill="none" '
                 f'stroke="{_LINE}" stroke-width="1.5"/>')
    parts.append(f'<line x1="{left}" y1="{_number(base)}" x2="{_number(left + plot_w)}" '
                 f'y2="{_number(base)}" stroke="#555"/>')
    parts.append(f'<text x="{left - 4}" y="{_number(base - flight_h + 8)}" text-anchor="end" '
                 f'font-size="10">{peak}</text>')
    parts.append(f'<text x="{left - 4}" y="{_number(base)}" text-anchor="end" '
                 f'font-size="10">0</text>')
    parts.append(f'<text x="{left}" y="{_number(base + 14)}" font-size="10">0 s</text>')
    parts.append(f'<text x="{_number(left + plot_w)}" y="{_number(base + 14)}" '
                 f'text-anchor="end" font-size="10">{end:.3f} s</text>')
    parts.append(f'<text x="{_number(left + plot_w / 2)}" y="{_number(base + 14)}" '
                 f'text-anchor="middle" font-size="10">in flight (green)</text></svg>')
    return Markup("".join(parts))
