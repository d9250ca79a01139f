"""Charts as PNG or SVG files (matplotlib, no screen needed): entities per level over the
periods for `eval`, and the from → to transition matrix for `diff`."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from ..diagnostics import RegimeError

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


def _save(fig, out: Path) -> None:
    """Save atomically (files.atomic_output): a failed save leaves an earlier chart intact."""
    from ..files import atomic_output

    plt = _pyplot()
    try:
        with atomic_output(out, "wb", option="--chart") as fh:
            fig.savefig(fh, format=out.suffix.lower().lstrip("."), dpi=120, bbox_inches="tight")
    finally:
        plt.close(fig)


def _colours(n: int) -> list:
    """Best level green through to worst red, whatever the number of levels."""
    plt = _pyplot()
    cmap = plt.get_cmap("RdYlGn_r")
    return [cmap(0.1 + 0.8 * i / max(n - 1, 1)) for i in range(n)]


def level_counts_chart(outcomes, path: str | Path, *, title: str | None = None) -> Path:
    """Stacked bars: how many entities sit at each level in each period."""
    out = _check(path)
    plt = _pyplot()
    labels = list(outcomes.level_labels)
    periods = list(outcomes.period_labels)
    counts = np.array([[outcomes.counts(t)[lv] for lv in outcomes.level_ids]
                       for t in range(outcomes.n_periods)])
    fig, ax = plt.subplots(figsize=(max(7.0, 0.5 * len(periods) + 2), 4.5))
    bottom = np.zeros(len(periods))
    for i, (label, colour) in enumerate(zip(labels, _colours(len(labels)))):
        ax.bar(periods, counts[:, i], bottom=bottom, label=label, color=colour,
               edgecolor="white", linewidth=0.5)
        bottom += counts[:, i]
    ax.set_ylabel("entities")
    ax.set_xlabel(outcomes.period_kind)
    prov = outcomes.provenance
    ax.set_title(title or (f"{prov.policy_id} v{prov.policy_version}: entities per level"
                           if prov else "entities per level"))
    # below the bars, so long level labels never squeeze the plot
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), frameon=False,
              ncol=min(3, len(labels)))
    ax.tick_params(axis="x", rotation=60)
    ax.spines[["top", "right"]].set_visible(False)
    _save(fig, out)
    return out


def transition_chart(matrix: np.ndarray, from_labels: Sequence[str], to_labels: Sequence[str],
                     path: str | Path, *, title: str, xlabel: str, ylabel: str) -> Path:
    """A heatmap of entity counts moving from each level (rows) to each level (columns)."""
    out = _check(path)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(1.2 * len(to_labels) + 3, 1.0 * len(from_labels) + 2))
    image = ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(to_labels)), to_labels, rotation=30, ha="right")
    ax.set_yticks(range(len(from_labels)), from_labels)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    top = matrix.max() if matrix.size else 0
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            value = int(matrix[i, j])
            ax.text(j, i, str(value), ha="center", va="center",
                    color="white" if top and value > top / 2 else "black")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="entities")
    _save(fig, out)
    return out
