"""Each indicator's monthly trend as an SVG line chart, drawn here by pygal, with its green and amber
thresholds as lines, ready to be inlined in the evidence pack.

The SVG must make the page neither run code nor fetch anything: pygal's interactive script is off
(`js=[]`) and the configuration script it still writes is taken out, with its comments, before the
tree is serialised; its CSS is inlined, and the fonts named are system fonts. Values come from the
presented status history, so a value withheld for the caller (or not rated that month) is a gap.
"""

import math
import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import pygal
from pygal.style import Style

from service.status.vocabulary import IndicatorKey, Rag

FONTS = '"DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif'
RAG_COLOURS = {
    Rag.green: "#1b7f3b",
    Rag.amber: "#c77700",
    Rag.red: "#b3261e",
    Rag.insufficient_evidence: "#6b6b6b",
    Rag.not_applicable: "#6b6b6b",
}
VALUE_COLOUR = "#1f4e79"
CHART_WIDTH, CHART_HEIGHT = 680, 240

Unit = Literal["share", "percent", "systems", "points"]


@dataclass(frozen=True, slots=True)
class Scale:
    """How an indicator's value reads: its unit, which way is better, and its threshold fields."""

    unit: Unit
    lower_is_better: bool = False
    green: str = "green"
    amber: str = "amber"

    def plotted(self, value: float) -> float:
        """The value on the chart's axis (shares as percentages)."""
        return value * 100 if self.unit == "share" else value

    def text(self, value: float) -> str:
        if self.unit == "share":
            return f"{value * 100:.0f}%"
        if self.unit == "percent":
            return f"{value:.1f}%"
        if self.unit == "systems":
            return f"{value:.0f} of 4 systems"
        return f"{value:.2f} point{'' if value == 1 else 's'}"

    def bound(self, value: float) -> str:
        """A threshold, as its comparison reads: "≥ 80%", "≤ 0.5 points"."""
        sign = "≤" if self.lower_is_better else "≥"
        if self.unit == "share":
            return f"{sign} {value * 100:.0f}%"
        if self.unit == "percent":
            return f"{sign} {value:g}%"
        if self.unit == "systems":
            return f"{sign} {value:g} of 4 systems"
        return f"{sign} {value:g} point{'' if value == 1 else 's'}"


SCALES: dict[IndicatorKey, Scale] = {
    IndicatorKey.system_visibility: Scale("systems"),
    IndicatorKey.supervision_reinforcement: Scale("share"),
    IndicatorKey.understanding_why: Scale("share"),
    IndicatorKey.shift_consistency: Scale("points", lower_is_better=True),
    IndicatorKey.audit_stability: Scale("percent"),
    IndicatorKey.incident_learning: Scale("share"),
    IndicatorKey.person_independence: Scale(
        "share", lower_is_better=True, green="top_share_green", amber="top_share_amber"
    ),
    IndicatorKey.turnover_resilience: Scale("share"),
}


def threshold_lines(key: IndicatorKey, threshold: dict[str, Any]) -> tuple[float | None, float | None]:
    """The green and amber thresholds the chart draws (None when the status does not carry one)."""
    scale = SCALES[key]
    found = [threshold.get(scale.green), threshold.get(scale.amber)]
    green, amber = (
        float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None for v in found
    )
    return green, amber


def _axis(scale: Scale, values: Sequence[float]) -> tuple[float, float, list[float]]:
    """The y range and its ticks: fixed for shares, percentages and systems; for a gap in points,
    from 0 to a whole point above the largest value or threshold."""
    if scale.unit in ("share", "percent"):
        return 0, 100, [0, 25, 50, 75, 100]
    if scale.unit == "systems":
        return 0, 4, [0, 1, 2, 3, 4]
    top = max(2.0, math.ceil(max(values, default=0) + 0.25))
    steps = int(top * 2)
    return 0, top, [n / 2 for n in range(steps + 1)]


def _axis_label(scale: Scale, tick: float) -> str:
    if scale.unit in ("share", "percent"):
        return f"{tick:.0f}%"
    if scale.unit == "systems":
        return f"{tick:.0f}"
    return f"{tick:g}"


def _quiet(root: Any) -> Any:
    """pygal's tree without its configuration script and comments: the SVG runs nothing and
    names nothing outside itself."""
    for parent in list(root.iter()):
        for child in list(parent):
            tag = child.tag
            if not isinstance(tag, str) or tag.rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    return root


def _labelled(label: str, key: IndicatorKey) -> Any:
    def label_tree(root: ElementTree.Element) -> ElementTree.Element:
        root.set("role", "img")
        root.set("aria-label", label)
        root.set("data-indicator", key.value)
        return root

    return label_tree


def indicator_chart(
    key: IndicatorKey,
    *,
    label: str,
    months: Sequence[date],
    values: Sequence[float | None],
    rags: Sequence[Rag],
    threshold: dict[str, Any],
) -> str:
    """The SVG (a string, no XML declaration) of one indicator's monthly values: each month's
    point in the colour of that month's rating, and the green and amber thresholds as lines."""
    scale = SCALES[key]
    green, amber = threshold_lines(key, threshold)
    plotted = [None if v is None else scale.plotted(v) for v in values]
    lines = [scale.plotted(t) for t in (green, amber) if t is not None]
    low, high, ticks = _axis(scale, [v for v in plotted if v is not None] + lines)
    style = Style(
        background="#ffffff",
        plot_background="#ffffff",
        foreground="#333333",
        foreground_strong="#111111",
        foreground_subtle="#d9d9d9",
        opacity="1",
        opacity_hover="1",
        stroke_opacity="1",
        stroke_opacity_hover="1",
        transition="none",
        # Faint solid guides, so the dashed threshold lines are what stands out.
        guide_stroke_color="#e2e2e2",
        guide_stroke_dasharray="1,0",
        major_guide_stroke_color="#e2e2e2",
        major_guide_stroke_dasharray="1,0",
        colors=(VALUE_COLOUR, RAG_COLOURS[Rag.green], RAG_COLOURS[Rag.amber]),
        font_family=FONTS,
        label_font_family=FONTS,
        major_label_font_family=FONTS,
        legend_font_family=FONTS,
        value_font_family=FONTS,
        title_font_family=FONTS,
        tooltip_font_family=FONTS,
        no_data_font_family=FONTS,
        value_label_font_family=FONTS,
        label_font_size=12,
        major_label_font_size=12,
        legend_font_size=12,
        no_data_font_size=14,
    )
    chart = pygal.Line(
        js=[],
        disable_xml_declaration=True,
        explicit_size=False,
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        style=style,
        range=(low, high),
        y_labels=[{"label": _axis_label(scale, t), "value": t} for t in ticks],
        x_labels=[m.strftime("%b %y") for m in months],
        show_legend=True,
        legend_at_bottom=True,
        legend_at_bottom_columns=3,
        legend_box_size=10,
        truncate_legend=-1,
        show_y_guides=True,
        show_x_guides=False,
        allow_interruptions=True,
        dots_size=4,
        margin=6,
        margin_right=24,
        no_data_text="No rated month",
    )
    chart.add_xml_filter(_quiet)
    chart.add_xml_filter(_labelled(label, key))
    chart.add(
        "Monthly value",
        [
            None if v is None else {"value": v, "color": RAG_COLOURS[r]}
            for v, r in zip(plotted, rags, strict=True)
        ],
        stroke_style={"width": 2.5},
    )
    dashed = {"width": 2.5, "dasharray": "9, 5"}
    for name, line in (("Green", green), ("Amber", amber)):
        if line is not None:
            chart.add(
                f"{name} {scale.bound(line)}",
                [scale.plotted(line)] * len(months),
                show_dots=False,
                stroke_style=dashed,
            )
    svg: str = chart.render(is_unicode=True)
    return svg
