"""The 14-day chart of the top concepts: matplotlib (Agg, no display needed) to inline SVG."""

from __future__ import annotations

import io
import re

import matplotlib

matplotlib.use("Agg")  # headless: the digest is built by cron and the scheduler (set before pyplot loads)

from matplotlib.figure import Figure

from sahel_crawler.digest.build import History

_PROLOGUE = re.compile(r"^.*?(?=<svg\b)", re.S)  # XML declaration, DOCTYPE and comments


def chart_svg(history: History) -> str | None:
    """An SVG element (no XML prologue, ready to inline in HTML) charting `history`; None when
    there is nothing to draw.

    Text is drawn as paths, so the chart looks the same without the fonts installed, and the
    output is reproducible (fixed ids, no date in the metadata).
    """
    if not history.series or not any(sum(counts) for counts in history.series.values()):
        return None
    figure = Figure(figsize=(5.6, 3.0), dpi=100, layout="constrained")
    axes = figure.subplots()
    positions = range(len(history.days))
    for cid, counts in history.series.items():
        axes.plot(positions, counts, marker="o", markersize=3, linewidth=1.6, label=history.labels.get(cid, cid))
    axes.set_xticks(list(positions)[::2], [d.strftime("%d %b") for d in history.days][::2], fontsize=9)
    axes.tick_params(axis="y", labelsize=9)
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.set_ylim(bottom=0)
    axes.set_ylabel("stories per day", fontsize=9)
    axes.grid(axis="y", alpha=0.3)
    axes.spines[["top", "right"]].set_visible(False)
    axes.legend(fontsize=9, frameon=False, loc="upper left", ncols=min(3, len(history.series)))
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
