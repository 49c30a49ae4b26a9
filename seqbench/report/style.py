"""The one look of every report figure: one palette, one style, one way to make and save a figure.

    with plotting():
        fig, axes = new_figure(5.2, 3.4)
        axes[0][0].plot(x, y, color=palette(models)["lstm"])
        path = save(fig, out, "name")   # figures/name.png (+ .svg), relative to `out`

Figures are made without pyplot and styled inside `rc_context`, so rendering a report leaves no
global matplotlib state behind. Files carry no timestamps, so the same input gives the same bytes.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

from ..atomic import write_atomic
from .frame import model_rank


def palette(models: Iterable[str]) -> dict:
    """Model (or "model (variant)" label) -> colour, in the order of every table and legend."""
    import seaborn as sns

    ordered = sorted(set(models), key=model_rank)
    return dict(zip(ordered, sns.color_palette("colorblind", len(ordered))))


def _rc() -> dict:
    import seaborn as sns
    from cycler import cycler

    # What sns.set_theme(style="whitegrid", context="paper", font_scale=1.1) would set, as a local rc.
    return {**sns.axes_style("whitegrid"), **sns.plotting_context("paper", font_scale=1.1),
            "axes.prop_cycle": cycler(color=sns.color_palette("deep")), "font.family": ["sans-serif"],
            "svg.hashsalt": "seqbench", "svg.fonttype": "path", "figure.dpi": 100}


@contextmanager
def plotting() -> Iterator[None]:
    """Make, draw and save figures inside this block; it applies the report's style locally."""
    from matplotlib import rc_context

    with rc_context(_rc()):
        yield


def new_figure(width: float, height: float, nrows: int = 1, ncols: int = 1):
    """(Figure, 2-D array of Axes) with an Agg canvas, made without pyplot."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig, fig.subplots(nrows, ncols, squeeze=False)


def panels(n: int, width: float, height: float, ncols: int = 3):
    """(Figure, list of n Axes) for small multiples: a grid `ncols` wide, empty cells removed.
    `width` and `height` are one panel's size in inches."""
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    fig, axes = new_figure(width * ncols, height * nrows + 0.4, nrows, ncols)
    flat = [ax for row in axes for ax in row]
    for ax in flat[n:]:
        fig.delaxes(ax)
    return fig, flat[:n]


def seed_points(ax, x, y, color, **kw) -> None:
    """Each seed as a small point in its model's colour, drawn under the means."""
    ax.scatter(x, y, s=14, color=color, alpha=0.6, linewidths=0, zorder=3, **kw)


def save(fig, out: Path, name: str) -> str:
    """Write figures/<name>.png and .svg under `out`; return the PNG path relative to `out`."""
    directory = Path(out) / "figures"
    # Whole or not at all, as the report's text files: a report killed mid-render keeps the old figure.
    write_atomic(directory / f"{name}.png", lambda handle: fig.savefig(
        handle, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None}))
    write_atomic(directory / f"{name}.svg", lambda handle: fig.savefig(
        handle, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None}))
    return f"figures/{name}.png"
