"""Self-contained HTML reports: headings, text, tables and matplotlib figures inlined as PNG.

A report opens in any browser from disk, with no server and no files beside it.
"""

from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

from cadenza import atomic

if TYPE_CHECKING:  # matplotlib is imported by whoever draws a figure, not by loading a model
    from matplotlib.figure import Figure


# A table cell that reads as a number: 0.798, -0.7 dB, 1.2e-03 ± 4e-04, [0.41, 0.62], n/a.
NUMBER = re.compile(r"[-+±\[\]\d., e—/]*\d[-+±\[\]\d., e—/]*(\s?(dB|s|Hz|%|bits))?|n/a.*")


class Report:
    """Build a page piece by piece, then ``write`` it."""

    def __init__(self, title: str):
        self.title = title
        self.parts: list[str] = [f"<h1>{html.escape(title)}</h1>"]

    def heading(self, text: str) -> None:
        self.parts.append(f"<h2>{html.escape(text)}</h2>")

    def paragraph(self, text: str) -> None:
        self.parts.append(f"<p>{html.escape(text)}</p>")

    def note(self, text: str) -> None:
        """A paragraph set apart: a warning or caveat the reader must not miss."""
        self.parts.append(f'<p class="note">{html.escape(text)}</p>')

    def table(self, rows: list[dict], columns: list[str] | None = None) -> None:
        """One row per dict; floats print as 1.23e-02, None as a dash; cells that read as
        numbers (``NUMBER``) align right, words left."""
        columns = columns or list(dict.fromkeys(key for row in rows for key in row))

        def cell(value) -> str:
            if value is None:
                return '<td class="n">—</td>'
            if isinstance(value, float):
                return f'<td class="n">{value:.2e}</td>'
            text = str(value)
            # Numbers (with a unit, an interval or a spread) line up on the right; words left.
            numeric = isinstance(value, int) or NUMBER.fullmatch(text)
            return (f'<td class="n">{html.escape(text)}</td>' if numeric
                    else f"<td>{html.escape(text)}</td>")

        head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
        body = "".join(
            "<tr>" + "".join(cell(row.get(c)) for c in columns) + "</tr>"
            for row in rows
        )
        self.parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")

    def figure(self, figure: Figure, caption: str = "") -> None:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
        data = base64.b64encode(buffer.getvalue()).decode("ascii")
        self.parts.append(
            f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )

    def audio(self, wave, sample_rate: int, caption: str = "") -> None:
        """An inline player (16-bit wav as a data URI), so the page needs no files beside it."""
        import numpy as np
        import soundfile

        buffer = io.BytesIO()
        samples = np.asarray(wave, dtype=np.float32).reshape(-1, np.shape(wave)[-1]).T
        soundfile.write(buffer, np.clip(samples, -1, 1), sample_rate, format="WAV",
                        subtype="PCM_16")
        data = base64.b64encode(buffer.getvalue()).decode("ascii")
        self.parts.append(
            f"<figure><audio controls src='data:audio/wav;base64,{data}'></audio>"
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )

    def html(self) -> str:
        style = (
            "body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em}"
            "table{border-collapse:collapse;font-size:13px;margin:1em 0}"
            "td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}"
            "td.n{text-align:right;white-space:nowrap}img{max-width:100%}"
            ".note{background:#fff4e0;border-left:4px solid #e69500;padding:6px 10px}"
            "figcaption{font-size:13px;color:#444}"
        )
        return (
            f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(self.title)}"
            f"</title><style>{style}</style></head><body>{''.join(self.parts)}</body></html>\n"
        )

    def write(self, path: Path | str) -> Path:
        return atomic.write_text(path, self.html())
