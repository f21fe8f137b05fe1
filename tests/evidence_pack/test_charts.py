"""Each indicator's chart: an SVG that runs nothing and fetches nothing, with its thresholds drawn."""

import re
from datetime import date

import pytest

from service.evidence_pack.charts import SCALES, indicator_chart
from service.evidence_pack.document import COUNT_NAMES, INDICATOR_NAMES
from service.status.thresholds import Thresholds
from service.status.vocabulary import IndicatorKey, Rag


def test_every_indicator_has_a_scale_and_names() -> None:
    assert set(SCALES) == set(IndicatorKey) == set(INDICATOR_NAMES) == set(COUNT_NAMES)


@pytest.mark.parametrize("key", list(IndicatorKey))
def test_a_chart_is_a_quiet_svg_with_its_thresholds(key: IndicatorKey) -> None:
    threshold = getattr(Thresholds(), key.value).model_dump()
    months = [date(2026, m, 1) for m in range(1, 13)]
    values = [None, None, *[0.5] * 10]
    svg = indicator_chart(
        key,
        label="A chart",
        months=months,
        values=values,
        rags=[Rag.insufficient_evidence] * 2 + [Rag.amber] * 10,
        threshold=threshold,
    )
    assert svg.startswith("<svg ") and svg.endswith("</svg>")
    assert "<?xml" not in svg and "<script" not in svg and "<!--" not in svg
    assert not re.search(r"href|url\(|@import|https?:(?!//www\.w3\.org/2000/svg\")", svg)
    assert f'data-indicator="{key.value}"' in svg and 'role="img"' in svg
    scale = SCALES[key]
    for name, field in (("Green", scale.green), ("Amber", scale.amber)):
        assert f"{name} {scale.bound(threshold[field])}" in svg
    assert "Nov 26" in svg  # months label the x axis
