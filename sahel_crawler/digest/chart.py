"""The 14-day chart of the top concepts: matplotlib (Agg, no display needed) to inline SVG."""

from __future__ import annotations

import io
import re

import matplotlib

matplotlib.use("Agg")  # headless: the digest is built by cron and the scheduler (set before pyplot loads)

from matplotlib.figure import Figure

from sahel_crawler.digest.build import History

_PROLOGUE = re.compile(r"^.*?(?=<svg\b)", re.S)  # XML declaration, DOCTYPE and comments
# Lines that overlap (two concepts with the same counts) stay apart by marker and dash.
_MARKERS = ("o", "s", "^", "D", "v", "P")
_DASHES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1)), (0, (1, 1)))


def chart_svg(history: History) -> str | None:
    """An SVG element (no XML prologue, ready to inline in HTML) charting `history`; None when
    there is nothing to draw.

    Text is drawn as paths, so the chart looks the same without the fonts installed, and the
    output is reproducible (fixed ids, no date in the metadata).
    """
    if not history.series or not any(sum(counts) for counts in history.series.values()):
        return None
    figure = Figure(figsize=(5.6, 3.6), dpi=100, layout="constrained")
    axes = figure.subplots()
    positions = range(len(history.days))
    for i, (cid, counts) in enumerate(history.series.items()):
        axes.plot(
            positions,
            counts,
            marker=_MARKERS[i % len(_MARKERS)],
            markersize=4,
            linestyle=_DASHES[i % len(_DASHES)],
            linewidth=1.6,
            label=history.labels.get(cid, cid),
        )
    # every day labelled: the day of the month, and the month where it starts or changes
    ticks = [d.strftime("%d %b") if i == 0 or d.day == 1 else d.strftime("%d") for i, d in enumerate(history.days)]
    axes.set_xticks(list(positions), ticks, fontsize=8)
    axes.tick_params(axis="y", labelsize=9)
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.set_ylim(bottom=0)
    axes.set_ylabel("stories per day", fontsize=9)
    axes.grid(axis="y", alpha=0.3)
    axes.spines[["top", "right"]].set_visible(False)
    # below the plot, so no line runs under it
    figure.legend(fontsize=9, frameon=False, loc="outside lower center", ncols=min(3, len(history.series)))
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "sahel-digest", "svg.fonttype": "path"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = _PROLOGUE.sub("", buffer.getvalue(), count=1)
    # scale with the page instead of a fixed size in points, so it fits a phone screen
    return re.sub(
        r'<svg([^>]*?) width="[^"]*" height="[^"]*"',
        r'<svg\1 width="100%" role="img" '
        r'aria-label="Daily stories of the top concepts over 14 days"',
        svg,
        count=1,
    )
