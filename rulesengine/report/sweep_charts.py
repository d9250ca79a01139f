"""Charts of a sweep (matplotlib, files only): a tornado chart of each parameter's influence
and a stability strip of the organisations. Text from policies and data is drawn with
mathtext parsing off, so a `$` in a name is a dollar sign, never markup."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..diagnostics import RegimeError

SUFFIXES = (".png", ".svg")

# The sensitivity measure each design's tornado chart shows (see SweepResult.sensitivity_table).
TORNADO_MEASURE = {"sobol": "ST", "morris": "mu_star", "grid": "eta2", "lhs": "eta2"}
MEASURE_LABEL = {"ST": "total Sobol index (SALib)", "mu_star": "Morris mu* (SALib)",
                 "eta2": "share of variance explained (eta squared)"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # SVG text stays text (searchable, accessible), not outlines
    matplotlib.rcParams["svg.fonttype"] = "none"

    return plt


def _target(path: str | Path) -> Path:
    p = Path(path)
    if p.suffix.lower() not in SUFFIXES:
        raise RegimeError(f"chart file '{p}' must end in .png or .svg")
    return p


def tornado_chart(result, path: str | Path, *, output: str = "mean_level") -> Path:
    """One bar per parameter, longest first: how much the output (by default the mean level
    of the organisations decided on) depends on it."""
    out = _target(path)
    measure = TORNADO_MEASURE.get(result.design.method, "eta2")
    table = result.sensitivity_table()
    values = {p: v for p, o, m, v in zip(table["param"], table["output"], table["measure"],
                                         table["value"]) if o == output and m == measure}
    names = sorted(values, key=lambda n: (-np.nan_to_num(values[n]), n))
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 1.0 + 0.5 * max(len(names), 1)))
    y = np.arange(len(names))[::-1]
    ax.barh(y, [np.nan_to_num(values[n]) for n in names], color="#4c72b0")
    ax.set_yticks(y, names, parse_math=False)
    ax.set_xlabel(MEASURE_LABEL.get(measure, measure), parse_math=False)
    ax.set_title(f"{result.policy_id} v{result.policy_version}: parameter sensitivity of "
                 f"{output.replace('_', ' ')} ({result.design.n_variants:,} variants)",
                 parse_math=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.savefig(out, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return out


def stability_chart(result, path: str | Path) -> Path:
    """Each organisation as a dot: its stability (share of runs in its modal level) in the
    last period looked at, sorted, coloured by the modal level."""
    out = _target(path)
    prob = result.level_probabilities()[-1]                 # [E, L]
    decided = ~np.isnan(prob).all(axis=1)
    prob = prob[decided]
    modal = np.argmax(prob, axis=1)
    stability = prob[np.arange(len(prob)), modal]
    order = np.lexsort((modal, stability))
    plt = _pyplot()
    cmap = plt.get_cmap("RdYlGn_r")
    n_levels = len(result.run.level_ids)
    colours = [cmap(0.1 + 0.8 * k / max(n_levels - 1, 1)) for k in range(n_levels)]
    fig, ax = plt.subplots(figsize=(9, 3.8))
    x = np.arange(len(order))
    for k, label in enumerate(result.run.level_labels):
        sel = modal[order] == k
        if sel.any():
            ax.scatter(x[sel], stability[order][sel], s=10, color=colours[k], label=label)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("organisations, least stable first")
    ax.set_ylabel("share of runs in the modal level")
    period = result.run.period_labels[-1] if result.run.period_labels else ""
    ax.set_title(f"{result.policy_id} v{result.policy_version}: stability of each "
                 f"organisation's level, {period}", parse_math=False)
    legend = ax.legend(loc="lower right", frameon=False, fontsize=8)
    for text in legend.get_texts():
        text.set_parse_math(False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.savefig(out, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return out
