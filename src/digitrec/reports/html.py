"""Self-contained HTML: every picture embedded as base64 PNG and the style inline, so a report is one file
that opens offline, can be mailed, and never changes when the model directory does."""

from __future__ import annotations

import base64
from html import escape
from typing import Iterable, Sequence

from matplotlib.figure import Figure

from digitrec.reports.plots import png_bytes

STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 2em; }
nav a { margin-right: 1em; } .note { color: #666; } .bad { color: #c62828; }
table { border-collapse: collapse; margin: 0.5em 0; }
td, th { padding: 0.2em 0.8em; border-bottom: 1px solid #eee; }
th { text-align: left; background: #f6f6f6; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1em 0; } img { max-width: 100%; height: auto; } code { background: #f3f3f3; padding: 0 0.3em; }
"""


def text(value: object) -> str:
    return escape(str(value))


def paragraph(content: str, css: str = "") -> str:
    """``content`` is already HTML (escape plain text with :func:`text`)."""
    return f'<p class="{css}">{content}</p>' if css else f"<p>{content}</p>"


def table(rows: Iterable[Sequence[object]], header: Sequence[str] | None = None,
          numeric: Sequence[int] = ()) -> str:
    """Rows of plain values (escaped here); columns listed in ``numeric`` are right-aligned."""
    head = "<tr>" + "".join(f"<th>{text(h)}</th>" for h in header) + "</tr>" if header else ""
    body = "".join(
        "<tr>" + "".join(f'<td class="num">{text(v)}</td>' if i in numeric else f"<td>{text(v)}</td>"
                         for i, v in enumerate(row)) + "</tr>"
        for row in rows)
    return f"<table>{head}{body}</table>"


def image(fig: Figure, alt: str) -> str:
    data = base64.b64encode(png_bytes(fig)).decode("ascii")
    return f'<figure><img alt="{text(alt)}" src="data:image/png;base64,{data}"></figure>'


def section(anchor: str, title: str, *parts: str) -> str:
    return f'<section id="{anchor}"><h2>{text(title)}</h2>{"".join(parts)}</section>'


def page(title: str, subtitle: str, sections: Sequence[tuple[str, str, str]]) -> str:
    """``sections``: (anchor, title, html) in reading order; a navigation bar links them all."""
    nav = "".join(f'<a href="#{anchor}">{text(name)}</a>' for anchor, name, _ in sections)
    body = "".join(section(anchor, name, content) for anchor, name, content in sections)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{text(title)}</title>'
            f"<style>{STYLE}</style></head><body><h1>{text(title)}</h1>"
            f'<p class="note">{text(subtitle)}</p><nav>{nav}</nav>{body}</body></html>\n')
