"""Charts as inline SVG drawn on the server with pygal (no script of pygal's is loaded: ``js=[]``)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from functools import lru_cache
from typing import Any

import pygal
from babel import dates
from markupsafe import Markup
from pygal.style import Style

_SCRIPT = re.compile(r"<script\b.*?</script>", re.DOTALL)
STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1d2330",
    foreground_strong="#1d2330",
    foreground_subtle="#5b6475",
    colors=("#1f5fbf", "#1d7a3c", "#b3261e", "#c99a00", "#6b4fa3", "#2b8a9e"),
    font_family="system-ui, sans-serif",
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=13,
    title_font_size=15,
    value_font_size=12,
)


def _options(title: str) -> dict[str, object]:
    return {
        "style": STYLE,
        "js": [],
        "disable_xml_declaration": True,
        "width": 640,
        "height": 360,
        "explicit_size": False,
        "legend_at_bottom": True,
        "legend_at_bottom_columns": 4,
        "title": title,
        "print_values": False,
        "no_data_text": "—",
        "margin": 12,
        "margin_bottom": 30,
    }


def period_labels(starts: Sequence[datetime], months: bool, locale: str, zone: tzinfo) -> list[str]:
    """The x labels of consecutive periods by the local day they start: ``Mar 2`` / ``2 мар.`` for days and
    weeks; for months ``Mar 2026`` / ``март 2026`` at the first and at each January, else ``Apr`` / ``апр.``."""
    labels, year = [], None
    for start in starts:
        day = start.astimezone(zone).date()
        if not months:
            labels.append(dates.format_skeleton("MMMd", day, locale=locale))
        else:
            labels.append(dates.format_date(day, "LLL" if day.year == year else "LLL y", locale=locale))
        year = day.year
    return labels


def _render(chart: Any, description: str) -> Markup:
    # pygal writes an inline script with its tooltip configuration; without its (third-party) scripts the
    # configuration is dead weight, and pages carry no script but our own.
    svg = _SCRIPT.sub("", chart.render(is_unicode=True))
    # An accessible name for the picture; the CSV link next to it carries the numbers.
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{Markup.escape(description)}" ', 1)
    return Markup(svg)  # noqa: S704 - pygal escapes every label and value it writes


# Drawing a chart costs pygal ~20-30 ms of CPU, most of the dashboard's time: a chart is a pure function of
# its title, labels and values, so the same picture is drawn once and then reused.
CACHED_CHARTS = 128
Series = tuple[tuple[str, tuple[float | None, ...]], ...]


def line(
    title: str, labels: Sequence[str], series: Mapping[str, Sequence[float | None]], *, percent: bool
) -> Markup:
    return _line(title, tuple(labels), _frozen(series), percent)


def bars(
    title: str, labels: Sequence[str], series: Mapping[str, Sequence[float]], *, stacked: bool = False
) -> Markup:
    return _bars(title, tuple(labels), _frozen(series), stacked)


def _frozen(series: Mapping[str, Sequence[float | None]]) -> Series:
    return tuple((name, tuple(values)) for name, values in series.items())


# About how many characters of x labels fit side by side under a chart (pygal reckons 0.6 em a character
# and cuts longer labels short with an ellipsis).
LABEL_CHARACTERS = 64


@lru_cache(maxsize=CACHED_CHARTS)
def _line(title: str, labels: tuple[str, ...], series: Series, percent: bool) -> Markup:
    # Labels that would be cut short (a year of months, "Mar 2026") are tilted instead, whole.
    crowded = len(labels) * (max(map(len, labels), default=0) + 1) > LABEL_CHARACTERS
    chart = pygal.Line(
        **_options(title),
        range=(0, 100) if percent else None,
        show_dots=True,
        x_label_rotation=30 if crowded else 0,
        margin_right=32,  # room for half of the last label, centred on the right edge
    )
    chart.x_labels = list(labels)
    for name, values in series:
        chart.add(name, list(values))
    return _render(chart, title)


@lru_cache(maxsize=CACHED_CHARTS)
def _bars(title: str, labels: tuple[str, ...], series: Series, stacked: bool) -> Markup:
    kind = pygal.StackedBar if stacked else pygal.Bar
    columns = [[value or 0 for value in values] for _, values in series]
    top = (
        max((sum(c) for c in zip(*columns, strict=True)), default=0)
        if stacked
        else max((max(c, default=0) for c in columns), default=0)
    )
    # Counts: whole-number ticks, about five of them.
    step = max(1, math.ceil(top / 5))
    ticks = {"y_labels": list(range(0, int(top) + step + 1, step))} if columns and labels else {}
    chart = kind(**_options(title), **ticks)
    chart.x_labels = list(labels)
    for name, values in series:
        chart.add(name, list(values))
    return _render(chart, title)
