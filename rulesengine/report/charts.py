"""Charts as PNG or SVG files (matplotlib, no screen needed): entities per level for `eval`
(over the periods, or by peer group for one period), and the from → to transition matrix for
`diff`. Every chart's title names the policy, its version and the period; every text from a
policy or data file goes through `escape.mathtext`, so a `$` never starts mathtext."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Sequence

import numpy as np

from ..diagnostics import RegimeError
from .escape import mathtext
from .output import write

SUFFIXES = (".png", ".svg")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")   # files only; never needs a display
    import matplotlib.pyplot as plt

    return plt


def _check(path: str | Path) -> Path:
    p = Path(path)
    if p.suffix.lower() not in SUFFIXES:
        raise RegimeError(f"chart file '{p}' must end in .png or .svg")
    return p


def _save(fig, out: Path) -> Path:
    """Render in memory, then write the file atomically (a failed render writes nothing)."""
    plt = _pyplot()
    sink = io.BytesIO()
    try:
        # svg text as text, so a reader (and a test) finds the labels in the file
        with plt.rc_context({"svg.fonttype": "none"}):
            fig.savefig(sink, format=out.suffix.lower()[1:], dpi=120, bbox_inches="tight")
    finally:
        plt.close(fig)
    write(out, sink.getvalue(), option="--chart")
    return out


def _colours(n: int) -> list:
    """Best level green through to worst red, whatever the number of levels."""
    plt = _pyplot()
    cmap = plt.get_cmap("RdYlGn_r")
    return [cmap(0.1 + 0.8 * i / max(n - 1, 1)) for i in range(n)]


def chart_title(outcomes, what: str, periods: Sequence[str]) -> str:
    """`oversight2021 v1.0: what, 2025-Q1` (raw text)."""
    prov = outcomes.provenance
    who = f"{prov.policy_id} v{prov.policy_version}: " if prov else ""
    when = periods[0] if len(periods) == 1 else f"{periods[0]} to {periods[-1]}"
    return f"{who}{what}, {when}"


def level_counts_chart(outcomes, path: str | Path, *, periods: Sequence[int] | None = None,
                       peer_group: str = "type", title: str | None = None) -> Path:
    """Entities per level: stacked bars over the periods, or, for one period, a bar per level
    in each peer group (the policy's peer_group attribute)."""
    out = _check(path)
    periods = list(range(outcomes.n_periods)) if periods is None else list(periods)
    if len(periods) == 1:
        return _by_group_chart(outcomes, out, periods[0], peer_group, title)
    plt = _pyplot()
    labels = [mathtext(lab) for lab in outcomes.level_labels]
    names = [outcomes.period_labels[t] for t in periods]
    counts = np.array([[outcomes.counts(t)[lv] for lv in outcomes.level_ids] for t in periods])
    fig, ax = plt.subplots(figsize=(max(7.0, 0.5 * len(names) + 2), 4.5))
    bottom = np.zeros(len(names))
    x = np.arange(len(names))
    for i, (label, colour) in enumerate(zip(labels, _colours(len(labels)))):
        ax.bar(x, counts[:, i], bottom=bottom, label=label, color=colour,
               edgecolor="white", linewidth=0.5)
        bottom += counts[:, i]
    ax.set_xticks(x, [mathtext(n) for n in names], rotation=60)
    ax.set_ylabel("entities")
    ax.set_xlabel(outcomes.period_kind)
    ax.set_title(mathtext(title or chart_title(outcomes, "entities per level", names)))
    # below the bars, so long level labels never squeeze the plot
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), frameon=False,
              ncol=min(3, len(labels)))
    ax.spines[["top", "right"]].set_visible(False)
    return _save(fig, out)


def _by_group_chart(outcomes, out: Path, t: int, peer_group: str, title: str | None) -> Path:
    plt = _pyplot()
    subject = outcomes.raw.subject[t]
    column = outcomes.entities.attribute(peer_group)     # codes: no string per entity
    groups_of = np.array(column.values, dtype=object)[column.codes[subject]]
    levels = outcomes.raw.level[t][subject]
    groups = sorted(set(groups_of.tolist()), key=str)
    n_levels = len(outcomes.level_ids)
    counts = np.array([[int(np.sum((groups_of == g) & (levels == i))) for i in range(n_levels)]
                       for g in groups]).reshape(len(groups), n_levels)
    width = 0.8 / max(n_levels, 1)
    fig, ax = plt.subplots(figsize=(max(7.0, 0.35 * n_levels * len(groups) + 2), 4.5))
    x = np.arange(len(groups))
    for i, (label, colour) in enumerate(zip(outcomes.level_labels, _colours(n_levels))):
        bars = ax.bar(x + (i - (n_levels - 1) / 2) * width, counts[:, i], width,
                      label=mathtext(label), color=colour, edgecolor="white", linewidth=0.5)
        ax.bar_label(bars, [str(c) if c else "" for c in counts[:, i]], fontsize=7)
    ax.set_xticks(x, [mathtext(g or "(none)") for g in groups], rotation=30, ha="right")
    ax.set_ylabel("entities")
    ax.set_xlabel(f"peer group ({peer_group})")
    period = outcomes.period_labels[t]
    ax.set_title(mathtext(title or chart_title(outcomes, "entities per level by peer group",
                                               [period])))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), frameon=False,
              ncol=min(4, n_levels))
    ax.spines[["top", "right"]].set_visible(False)
    return _save(fig, out)


def transition_chart(matrix: np.ndarray, from_labels: Sequence[str], to_labels: Sequence[str],
                     path: str | Path, *, title: str, xlabel: str, ylabel: str,
                     same: np.ndarray | None = None) -> Path:
    """A heatmap of entity counts moving from each level (rows) to each level (columns).

    The cells where nobody moved (`same`: the same level under both; by default the
    diagonal) are grey, so the colour scale is spent on the movers."""
    out = _check(path)
    return _save(transition_figure(matrix, from_labels, to_labels, title=title, xlabel=xlabel,
                                   ylabel=ylabel, same=same), out)


def transition_figure(matrix, from_labels: Sequence[str], to_labels: Sequence[str], *,
                      title: str, xlabel: str, ylabel: str, same: np.ndarray | None = None):
    """The transition heatmap as a matplotlib figure (see transition_chart)."""
    plt = _pyplot()
    matrix = np.asarray(matrix)
    if same is None:
        same = np.eye(*matrix.shape, dtype=bool)
    moved = np.ma.masked_where(same, matrix)
    fig, ax = plt.subplots(figsize=(1.2 * len(to_labels) + 3, 1.0 * len(from_labels) + 2))
    ax.imshow(np.where(same, 1.0, np.nan), cmap="Greys", vmin=0, vmax=6)
    top = int(moved.max()) if moved.count() else 0
    image = ax.imshow(moved, cmap="Oranges", vmin=0, vmax=max(top, 1))
    ax.set_xticks(range(len(to_labels)), [mathtext(s) for s in to_labels], rotation=30,
                  ha="right")
    ax.set_yticks(range(len(from_labels)), [mathtext(s) for s in from_labels])
    ax.set_xlabel(mathtext(xlabel))
    ax.set_ylabel(mathtext(ylabel))
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            value = int(matrix[i, j])
            if same[i, j]:
                colour, weight = "dimgrey", "normal"
            else:
                colour = "white" if top and value > top / 2 else "black"
                weight = "bold" if value else "normal"
            ax.text(j, i, str(value), ha="center", va="center", color=colour,
                    fontweight=weight)
    ax.set_title(mathtext(title))
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="entities that moved")
    return fig
