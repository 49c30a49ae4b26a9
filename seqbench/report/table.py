"""One table object, rendered to Markdown, LaTeX (booktabs) and sortable HTML."""
from __future__ import annotations

import html
import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Cell:
    text: str
    sort: float | str | None = None  # value the HTML table sorts by
    bold: bool = False


@dataclass
class Table:
    title: str  # "" for a table whose section text already says what it is
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    note: str = ""
    footer: list[list[Cell]] = field(default_factory=list)  # e.g. the chance baseline; never sorted

    @classmethod
    def of_text(cls, columns: list[str], rows: list[list[str]], title: str = "", note: str = "") -> "Table":
        """A table of plain text cells (no sort keys, nothing bold)."""
        return cls(title, columns, [[Cell(str(c)) for c in row] for row in rows], note=note)

    def markdown(self) -> str:
        def fmt(c: Cell) -> str:
            text = c.text.replace("|", "\\|")
            return f"**{text}**" if c.bold and text else text
        lines = [f"**{self.title}**", ""] if self.title else []
        lines += ["| " + " | ".join(self.columns) + " |", "|" + "|".join(" --- " for _ in self.columns) + "|"]
        for row in self.rows + self.footer:
            lines.append("| " + " | ".join(fmt(c) for c in row) + " |")
        if self.note:
            lines += ["", self.note]
        return "\n".join(lines) + "\n"

    def latex(self) -> str:
        def esc(text: str) -> str:
            out = text
            for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("#", r"\#"),
                         ("_", r"\_"), ("{", r"\{"), ("}", r"\}")):
                out = out.replace(a, b)
            return (out.replace("±", r"$\pm$").replace("↑", r"$\uparrow$").replace("↓", r"$\downarrow$")
                    .replace("≤", r"$\leq$").replace("≥", r"$\geq$").replace("—", "---").replace("–", "--")
                    .replace("×", r"$\times$").replace("†", r"\dag{}").replace("‡", r"\ddag{}").replace("≈", r"$\approx$")
                    .replace("·", r"$\cdot$").replace("<", r"$<$").replace(">", r"$>$").replace("`", ""))

        def fmt(c: Cell) -> str:
            return rf"\textbf{{{esc(c.text)}}}" if c.bold and c.text else esc(c.text)
        spec = "l" * 2 + "r" * (len(self.columns) - 2)
        lines = [r"\begin{table}[t]", r"\centering", r"\small"]
        lines += [rf"\caption{{{esc(self.title)}}}"] if self.title else []
        lines += [rf"\begin{{tabular}}{{{spec}}}", r"\toprule",
                 " & ".join(esc(c) for c in self.columns) + r" \\", r"\midrule"]
        lines += [" & ".join(fmt(c) for c in row) + r" \\" for row in self.rows]
        if self.footer:
            lines.append(r"\midrule")
            lines += [" & ".join(fmt(c) for c in row) + r" \\" for row in self.footer]
        lines += [r"\bottomrule", r"\end{tabular}"]
        if self.note:
            lines.append(rf"\par\smallskip{{\footnotesize {esc(self.note)}}}")
        lines.append(r"\end{table}")
        return "\n".join(lines) + "\n"

    def html(self) -> str:
        def td(c: Cell, tag="td") -> str:
            sort = "" if c.sort is None or (isinstance(c.sort, float) and math.isnan(c.sort)) else f' data-sort="{html.escape(str(c.sort))}"'
            text = html.escape(c.text)
            return f"<{tag}{sort}>{'<b>' + text + '</b>' if c.bold and text else text}</{tag}>"
        head = "".join(f'<th onclick="sortTable(this)">{html.escape(c)}</th>' for c in self.columns)
        body = "\n".join("<tr>" + "".join(td(c) for c in row) + "</tr>" for row in self.rows)
        foot = "\n".join('<tr class="baseline">' + "".join(td(c) for c in row) + "</tr>" for row in self.footer)
        note = f'<p class="note">{html.escape(self.note)}</p>' if self.note else ""
        caption = f"<caption>{html.escape(self.title)}</caption>" if self.title else ""
        return (f'<table class="sortable">{caption}'
                f"<thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody>"
                f"<tfoot>{foot}</tfoot></table>{note}\n")


def format_or_dash(value, spec: str = ".3g", missing: str = "—") -> str:
    """A number for a cell, or a dash where there is none (None, NaN, inf)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return missing
    return format(value, spec)
