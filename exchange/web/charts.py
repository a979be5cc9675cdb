"""Bar charts as inline SVG, drawn on the server from local code: reports work offline
and print as they look."""

from __future__ import annotations

from markupsafe import Markup, escape

COLOURS = ["#0b5cad", "#7aa7d9", "#b3261e", "#1b7f3b"]


def bar_chart(
    title: str,
    labels: list[str],
    series: dict[str, list[float | None]],
    *,
    width: int = 720,
    height: int = 240,
    unit: str = "",
) -> Markup:
    """Grouped bars: one group per label, one bar per series, with a legend."""
    left, bottom, top = 40, 30, 24
    values = [v for vs in series.values() for v in vs if v is not None]
    peak = max(values, default=0) or 1
    plot_h = height - bottom - top
    group_w = (width - left - 10) / max(len(labels), 1)
    bar_w = max(group_w / (len(series) + 1), 2)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" '
        f'viewBox="0 0 {width} {height}" width="100%" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" '
        f'y2="{height - bottom}" stroke="#999"/>',
        f'<text x="{left - 4}" y="{top + 4}" text-anchor="end" font-size="10">'
        f"{escape(_fmt(peak))}{escape(unit)}</text>",
    ]
    for i, label in enumerate(labels):
        x0 = left + i * group_w + bar_w / 2
        for j, (name, numbers) in enumerate(series.items()):
            value = numbers[i]
            if value is None:
                continue
            h = plot_h * value / peak
            x, y = x0 + j * bar_w, height - bottom - h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w * 0.9:.1f}" '
                f'height="{h:.1f}" fill="{COLOURS[j % len(COLOURS)]}">'
                f"<title>{escape(name)} {escape(label)}: {escape(_fmt(value))}"
                f"{escape(unit)}</title></rect>"
            )
        parts.append(
            f'<text x="{left + i * group_w + group_w / 2:.1f}" y="{height - 12}" '
            f'text-anchor="middle" font-size="10">{escape(label)}</text>'
        )
    for j, name in enumerate(series):
        x = left + j * 150
        parts.append(
            f'<rect x="{x}" y="4" width="10" height="10" '
            f'fill="{COLOURS[j % len(COLOURS)]}"/>'
            f'<text x="{x + 14}" y="13" font-size="11">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _fmt(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
