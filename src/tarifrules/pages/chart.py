"""A `Curve` drawn as an inline SVG: steps for grids, lines for taux d'effort.

Pure drawing: the points come from `curves.py` (the evaluator). A run of equal values is
drawn as one horizontal step (`<line class="palier">`, with its range and value in a
`<title>`), a change between two neighbouring values of the datum as a jump, anything
else as a sloped line. Series differ by colour *and* dash pattern, so the chart still
reads printed in black and white.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..values import format_decimal, spell
from .curves import Curve, Series
from .html import esc

__all__ = ["Segment", "render_chart", "segments"]

WIDTH, HEIGHT = 720, 340
LEFT, RIGHT, TOP, BOTTOM = 78, 16, 16, 52
COLOURS = ("#000091", "#ce0500", "#18753c", "#b34000", "#6a6af4", "#a558a0", "#009099", "#3a3a3a")
DASHES = ("", "8 4", "2 3", "10 3 2 3", "14 4", "4 4", "1 2", "6 2 2 2")


@dataclass(frozen=True)
class Segment:
    kind: str  # "palier" (equal values), "saut" (jump between neighbours), "pente"
    points: tuple[tuple[Decimal, Decimal], ...]


def segments(series: Series, step: Decimal) -> list[Segment]:
    """Steps, jumps and slopes of a series (gaps where the output is indéterminé)."""
    found: list[Segment] = []
    for block in _blocks(series.points):
        runs = _runs(block)
        slope: list[tuple[Decimal, Decimal]] = []
        for index, run in enumerate(runs):
            following = runs[index + 1] if index + 1 < len(runs) else None
            adjacent = following is not None and following[0][0] - run[-1][0] <= step
            if len(run) < 2:
                slope.append(run[0])
                continue
            value = run[0][1]
            if slope:
                slope.append(run[0])
                if len(slope) > 1:
                    found.append(Segment("pente", tuple(slope)))
            end = following[0][0] if adjacent and following is not None else run[-1][0]
            found.append(Segment("palier", (run[0], (end, value))))
            if adjacent and following is not None:
                found.append(Segment("saut", ((end, value), following[0])))
                slope = []
            else:
                slope = [(end, value)]
        if len(slope) > 1:
            found.append(Segment("pente", tuple(slope)))
    return found


def _blocks(points: tuple[tuple[Decimal, Decimal | None], ...]) -> list[list[tuple[Decimal, Decimal]]]:
    """The stretches where the output has a value."""
    blocks: list[list[tuple[Decimal, Decimal]]] = [[]]
    for x, y in points:
        if y is None:
            blocks.append([])
        else:
            blocks[-1].append((x, y))
    return [b for b in blocks if b]


def _runs(block: list[tuple[Decimal, Decimal]]) -> list[list[tuple[Decimal, Decimal]]]:
    runs: list[list[tuple[Decimal, Decimal]]] = []
    for point in block:
        if runs and runs[-1][-1][1] == point[1]:
            runs[-1].append(point)
        else:
            runs.append([point])
    return runs


def _ticks(high: Decimal, count: int = 6) -> list[Decimal]:
    """Round tick values from 0 to at least `high`."""
    if high <= 0:
        return [Decimal(0), Decimal(1)]
    raw = high / count
    power = Decimal(1)
    while power * 10 <= raw:
        power *= 10
    while power > raw:
        power /= 10
    step = next(power * f for f in (1, 2, Decimal("2.5"), 5, 10) if power * f >= raw)
    ticks = [Decimal(0)]
    while ticks[-1] < high:
        ticks.append(ticks[-1] + step)
    return ticks


def _number(value: Decimal) -> str:
    return format(value.quantize(Decimal("0.1")), "f")


def render_chart(curve: Curve, *, title: str) -> str:
    """The `<figure>`: SVG (axes, ticks, French labels, one group per series) and its legend."""
    xs = [x for s in curve.series for x, _ in s.points]
    ys = [y for s in curve.series for _, y in s.points if y is not None]
    x_low, x_high = min(xs), max(xs)
    y_ticks = _ticks(max(ys) if ys else Decimal(1))
    x_ticks = [t for t in _ticks(x_high - x_low) if t + x_low <= x_high or t == 0]
    y_high = y_ticks[-1]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def sx(x: Decimal) -> str:
        span = (x_high - x_low) or Decimal(1)
        return _number(LEFT + (x - x_low) / span * plot_w)

    def sy(y: Decimal) -> str:
        return _number(TOP + plot_h - y / y_high * plot_h)

    unit = curve.unit
    parts = [f"<svg class=\"graphique\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" "
             f"role=\"img\" aria-labelledby=\"t-{esc(curve.output)}\" data-resultat=\"{esc(curve.output)}\">",
             f"<title id=\"t-{esc(curve.output)}\">{esc(title)}</title>",
             "<rect x=\"0\" y=\"0\" width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>"]
    bottom = _number(Decimal(TOP + plot_h))
    for tick in y_ticks:
        parts.append(f"<line class=\"grille\" x1=\"{LEFT}\" x2=\"{WIDTH - RIGHT}\" y1=\"{sy(tick)}\" "
                     f"y2=\"{sy(tick)}\" stroke=\"#e5e5e5\"/>")
        parts.append(f"<text class=\"graduation-y\" x=\"{LEFT - 6}\" y=\"{sy(tick)}\" text-anchor=\"end\" "
                     f"dominant-baseline=\"middle\" font-size=\"11\">{esc(_tick(tick, unit))}</text>")
    for tick in x_ticks:
        x = sx(x_low + tick)
        parts.append(f"<line x1=\"{x}\" x2=\"{x}\" y1=\"{bottom}\" y2=\"{_number(Decimal(TOP + plot_h + 5))}\" "
                     "stroke=\"#1b1b1b\"/>")
        parts.append(f"<text class=\"graduation-x\" x=\"{x}\" y=\"{_number(Decimal(TOP + plot_h + 18))}\" "
                     f"text-anchor=\"middle\" font-size=\"11\">{esc(format_decimal(x_low + tick))}</text>")
    parts.append(f"<line class=\"axe\" x1=\"{LEFT}\" x2=\"{WIDTH - RIGHT}\" y1=\"{bottom}\" y2=\"{bottom}\" "
                 "stroke=\"#1b1b1b\"/>")
    parts.append(f"<line class=\"axe\" x1=\"{LEFT}\" x2=\"{LEFT}\" y1=\"{TOP}\" y2=\"{bottom}\" stroke=\"#1b1b1b\"/>")
    parts.append(f"<text class=\"axe-x\" x=\"{LEFT + plot_w // 2}\" y=\"{HEIGHT - 8}\" text-anchor=\"middle\" "
                 f"font-size=\"13\">{esc(curve.axis_label)}</text>")
    parts.append(f"<text class=\"axe-y\" transform=\"translate(16 {TOP + plot_h // 2}) rotate(-90)\" "
                 f"text-anchor=\"middle\" font-size=\"13\">{esc(curve.value_label)}</text>")
    for index, series in enumerate(curve.series):
        colour, dash = COLOURS[index % len(COLOURS)], DASHES[index % len(DASHES)]
        stroke = f"stroke=\"{colour}\" stroke-width=\"2.5\" fill=\"none\"" + (
            f" stroke-dasharray=\"{dash}\"" if dash else "")
        parts.append(f"<g class=\"serie\" data-serie=\"{esc(series.label)}\">")
        for segment in segments(series, curve.step):
            (x1, y1), (x2, y2) = segment.points[0], segment.points[-1]
            if segment.kind == "palier":
                shown = _tick(y1, unit)
                parts.append(
                    f"<line class=\"palier\" x1=\"{sx(x1)}\" y1=\"{sy(y1)}\" x2=\"{sx(x2)}\" y2=\"{sy(y2)}\" "
                    f"data-de=\"{x1}\" data-valeur=\"{y1}\" {stroke}><title>{esc(series.label)} : "
                    f"{esc(shown)} à partir de {esc(format_decimal(x1))}</title></line>")
            elif segment.kind == "saut":
                parts.append(f"<line class=\"saut\" x1=\"{sx(x1)}\" y1=\"{sy(y1)}\" x2=\"{sx(x2)}\" y2=\"{sy(y2)}\" "
                             f"stroke=\"{colour}\" stroke-width=\"1\" stroke-dasharray=\"2 2\"/>")
            else:
                coordinates = " ".join(f"{sx(x)},{sy(y)}" for x, y in segment.points)
                parts.append(f"<polyline class=\"pente\" points=\"{coordinates}\" {stroke}/>")
        parts.append("</g>")
    parts.append("</svg>")
    legend = "".join(
        f"<li><svg width=\"34\" height=\"10\" aria-hidden=\"true\"><line x1=\"0\" y1=\"5\" x2=\"34\" y2=\"5\" "
        f"stroke=\"{COLOURS[i % len(COLOURS)]}\" stroke-width=\"2.5\""
        + (f" stroke-dasharray=\"{DASHES[i % len(DASHES)]}\"" if DASHES[i % len(DASHES)] else "")
        + f"/></svg>{esc(s.label)}</li>" for i, s in enumerate(curve.series))
    notes = []
    if curve.fixed:
        notes.append("autres données fixées : " + ", ".join(f"{k.replace('_', ' ')} : {spell(v)}"
                                                             for k, v in curve.fixed))
    if curve.identical:
        notes.append(f"{curve.identical} cas donnant la même courbe qu'un cas tracé ne sont pas répétés")
    note = f"<p class=\"note\">{esc(' ; '.join(notes).capitalize())}.</p>" if notes else ""
    return (f"<figure class=\"graphique\">{''.join(parts)}<figcaption>{esc(title)}"
            f"<ul class=\"legende\">{legend}</ul>{note}</figcaption></figure>")


def _tick(value: Decimal, unit: str | None) -> str:
    if unit == "€":
        return spell(value, unit)
    return f"{format_decimal(value)} %" if unit == "%" else format_decimal(value)
