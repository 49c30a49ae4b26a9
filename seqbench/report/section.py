"""The one Section type of the report: a title, blocks (prose, tables, text samples) in order, and figures.

    Section("Gradient flow", [Text("‖∂L/∂h_t‖ on ..."), Table(...)], figures=["figures/gradflow.png"])

A section renders its own body to Markdown and to HTML from the same blocks; the page around it
(headings, embedded images) is written by render.py.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Protocol



def inline_html(text: str) -> str:
    """Escape prose for HTML, keeping its two Markdown marks: **bold** and `code`."""
    escaped = html.escape(text)
    escaped = re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", escaped)
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)


@dataclass(frozen=True)
class Text:
    """One paragraph of prose; **bold** and `code` are the only marks used."""
    text: str

    def markdown(self) -> str:
        return self.text

    def html(self) -> str:
        return f"<p>{inline_html(self.text)}</p>"


@dataclass(frozen=True)
class Sample:
    heading: str  # who wrote it, and how: "**lstm**, tinyshakespeare, context 64 (temperature 0.8, seed 0)"
    prompt: str
    text: str


@dataclass(frozen=True)
class Samples:
    """Generated text samples. HTML only: they are long, and the Markdown leaderboard stays tables."""
    samples: tuple[Sample, ...]

    def markdown(self) -> str:
        return ""

    def html(self) -> str:
        return "<h3>Samples</h3>" + "".join(
            f"<p>{inline_html(s.heading)}:</p><pre><b>{html.escape(s.prompt)}</b>{html.escape(s.text)}</pre>"
            for s in self.samples)


class Block(Protocol):
    """What a section is made of: anything with a Markdown and an HTML rendering (Text, Table, Samples)."""

    def markdown(self) -> str: ...

    def html(self) -> str: ...


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)  # Text, Table, Samples
    figures: list[str] = field(default_factory=list)  # PNG paths relative to the output directory

    @property
    def markdown(self) -> str:
        """The body in Markdown: blocks separated by blank lines (figures are linked by the page)."""
        parts = [block.markdown().strip("\n") for block in self.blocks]
        return "\n\n".join(p for p in parts if p)

    @property
    def html(self) -> str:
        return "".join(block.html() for block in self.blocks)


def note_section(title: str, text: str) -> Section:
    """A section with nothing to show but one line saying why."""
    return Section(title, [Text(text)])
