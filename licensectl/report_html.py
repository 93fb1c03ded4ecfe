"""A report as one self-contained HTML page: its tables, and its charts as inline SVG.

Made here, with the standard library only: no script, no stylesheet or font to fetch, so
the page opens offline and can be mailed or archived as it is. Every text taken from the
store goes through `safe_text.printable` and is HTML-escaped.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from licensectl.safe_text import printable

#: The bars' colour; the rendering test looks for it in the screenshot.
BAR_COLOR = "#d9480f"
_ROW = 22
_LABEL_W = 190
_VALUE_W = 90
_WIDTH = 760


@dataclass
class Section:
    heading: str
    columns: Sequence[tuple[str, str]]
    rows: Sequence[dict[str, Any]]
    chart: Sequence[tuple[str, int]] | None = None
    chart_title: str = ""
    notes: list[str] = field(default_factory=list)


def _t(value: Any) -> str:
    if value is None:
        return ""
    return html.escape(printable(str(value)), quote=True)


def svg_bars(bars: Sequence[tuple[str, int]], *, title: str) -> str:
    """A horizontal bar chart as an SVG element, sized to its bars."""
    top = max((v for _, v in bars), default=0) or 1
    room = _WIDTH - _LABEL_W - _VALUE_W
    height = _ROW * max(len(bars), 1) + 8
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{height}" '
        f'viewBox="0 0 {_WIDTH} {height}" role="img" aria-label="{_t(title)}">',
        f"<title>{_t(title)}</title>",
    ]
    for i, (label, value) in enumerate(bars):
        y = 4 + i * _ROW
        w = 0 if value <= 0 else max(1, round(value / top * room))
        parts.append(
            f'<text x="{_LABEL_W - 8}" y="{y + 15}" text-anchor="end">{_t(label)}</text>'
            f'<rect x="{_LABEL_W}" y="{y + 2}" width="{w}" height="{_ROW - 6}" '
            f'fill="{BAR_COLOR}"><title>{_t(label)}: {value:,}</title></rect>'
            f'<text x="{_LABEL_W + w + 6}" y="{y + 15}">{value:,}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def page(title: str, sections: Sequence[Section], *, generated: str) -> str:
    body: list[str] = [f"<h1>{_t(title)}</h1>", f'<p class="meta">{_t(generated)}</p>']
    for sec in sections:
        body.append(f"<section><h2>{_t(sec.heading)}</h2>")
        if sec.chart is not None:
            body.append(f"<figure>{svg_bars(sec.chart, title=sec.chart_title)}")
            body.append(f"<figcaption>{_t(sec.chart_title)}</figcaption></figure>")
        body.extend(f'<p class="note">{_t(n)}</p>' for n in sec.notes)
        if sec.rows:
            head = "".join(f"<th>{_t(h)}</th>" for h, _ in sec.columns)
            lines = []
            for row in sec.rows:
                cells = "".join(
                    f'<td class="{"num" if isinstance(row.get(k), int) else "txt"}">'
                    f"{_t(row.get(k))}</td>"
                    for _, k in sec.columns
                )
                lines.append(f"<tr>{cells}</tr>")
            body.append(
                f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(lines)}</tbody></table>"
            )
        else:
            body.append('<p class="note">Nothing to report.</p>')
        body.append("</section>")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_t(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )


_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:24px;color:#222;background:#fff}"
    "h1{font-size:22px}h2{font-size:18px;margin-top:28px}"
    ".meta,.note{color:#555;font-size:13px}"
    "svg text{font-size:12px;fill:#222}figure{margin:8px 0}"
    "figcaption{font-size:12px;color:#555}"
    "table{border-collapse:collapse;font-size:13px;margin-top:8px}"
    "th,td{border-bottom:1px solid #ddd;padding:3px 10px;text-align:left}"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}"
)
