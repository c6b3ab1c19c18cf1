"""Inline SVG charts (pure): bars grouped by category, and lines over periods. No script, no
external file: the report opens offline and prints as it shows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

PALETTE = ("#2f6db5", "#d9822b", "#3a9a5b", "#b5473a", "#7a5cb0", "#8c8c8c")
W, H, LEFT, BOTTOM, TOP = 720, 300, 80, 46, 24


def nice(v: float) -> str:
    """1234567 -> 1.2 m; ratios as they are."""
    for div, unit in ((1e9, " bn"), (1e6, " m"), (1e3, " k")):
        if abs(v) >= div:
            return f"{v / div:,.1f}{unit}"
    return f"{v:,.2f}" if abs(v) < 10 else f"{v:,.0f}"


def _axis(top: float, label: str) -> list[str]:
    parts = [f'<text x="4" y="{TOP - 8}" class="unit">{escape(label)}</text>']
    for i in range(5):
        v = top * i / 4
        y = H - BOTTOM - (H - BOTTOM - TOP) * i / 4
        parts.append(f'<line x1="{LEFT}" x2="{W - 10}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">'
                     f"{nice(v)}</text>")  # fmt: skip
    return parts


def _legend(series: Sequence[str]) -> list[str]:
    out, x = [], float(LEFT)
    for i, name in enumerate(series):
        out.append(f'<rect x="{x}" y="{H - 14}" width="10" height="10" '
                   f'fill="{PALETTE[i % len(PALETTE)]}"/>')  # fmt: skip
        out.append(f'<text x="{x + 14}" y="{H - 5}" class="tick">{escape(name)}</text>')
        x += 34 + 6.5 * len(name)
    return out


def _svg(title: str, parts: list[str]) -> str:
    body = "\n".join(parts)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" '
        f'class="chart"><title>{escape(title)}</title>\n{body}\n</svg>'
    )


def bars(
    title: str, categories: Sequence[str], series: Mapping[str, Sequence[float]], unit: str
) -> str:
    """Grouped bars: one group per category, one bar per series."""
    top = max([v for vs in series.values() for v in vs if v is not None] + [1e-9]) * 1.1
    parts = _axis(top, unit)
    span = (W - 10 - LEFT) / max(len(categories), 1)
    width = span * 0.8 / max(len(series), 1)
    for ci, cat in enumerate(categories):
        x0 = LEFT + ci * span + span * 0.1
        for si, (name, values) in enumerate(series.items()):
            v = values[ci] or 0.0
            h = (H - BOTTOM - TOP) * v / top
            x = x0 + si * width
            parts.append(
                f'<rect x="{x:.1f}" y="{H - BOTTOM - h:.1f}" width="{width - 1:.1f}" '
                f'height="{h:.1f}" fill="{PALETTE[si % len(PALETTE)]}">'
                f"<title>{escape(name)} {escape(cat)}: {nice(v)}</title></rect>"
            )
        parts.append(f'<text x="{x0 + span * 0.4:.1f}" y="{H - BOTTOM + 14}" class="tick" '
                     f'text-anchor="middle">{escape(cat)}</text>')  # fmt: skip
    return _svg(title, parts + _legend(list(series)))


def lines(
    title: str, periods: Sequence[str], series: Mapping[str, Sequence[float]], unit: str
) -> str:
    """One line per series over the periods (months)."""
    top = max([v for vs in series.values() for v in vs if v is not None] + [1e-9]) * 1.1
    parts = _axis(top, unit)
    step = (W - 10 - LEFT) / max(len(periods) - 1, 1)
    for si, (name, values) in enumerate(series.items()):
        pts = " ".join(
            f"{LEFT + i * step:.1f},{H - BOTTOM - (H - BOTTOM - TOP) * (v or 0) / top:.1f}"
            for i, v in enumerate(values)
        )
        colour = PALETTE[si % len(PALETTE)]
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2">'
                     f"<title>{escape(name)}</title></polyline>")  # fmt: skip
    every = max(len(periods) // 12, 1)
    for i, p in enumerate(periods):
        if i % every == 0:
            parts.append(f'<text x="{LEFT + i * step:.1f}" y="{H - BOTTOM + 14}" class="tick" '
                         f'text-anchor="middle">{escape(p)}</text>')  # fmt: skip
    return _svg(title, parts + _legend(list(series)))
