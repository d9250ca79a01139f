"""Charts of a sweep (matplotlib, files only, saved as every chart is: see charts.py): a
tornado chart of each parameter's influence and a stability strip of the organisations. Text
from policies and data goes through `escape.mathtext`, so a `$` never starts mathtext."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .charts import _check, _colours, _pyplot, _save
from .escape import mathtext

# The sensitivity measure each design's tornado chart shows (see SweepResult.sensitivity_table).
TORNADO_MEASURE = {"sobol": "ST", "morris": "mu_star", "grid": "eta2", "lhs": "eta2"}
MEASURE_LABEL = {"ST": "total Sobol index (SALib)", "mu_star": "Morris mu* (SALib)",
                 "eta2": "share of variance explained (eta squared)"}


def tornado_chart(result, path: str | Path, *, output: str = "mean_level") -> Path:
    """One bar per parameter, longest first: how much the output (by default the mean level
    of the organisations decided on) depends on it."""
    out = _check(path)
    measure = TORNADO_MEASURE.get(result.design.method, "eta2")
    table = result.sensitivity_table()
    values = {p: v for p, o, m, v in zip(table["param"], table["output"], table["measure"],
                                         table["value"]) if o == output and m == measure}
    names = sorted(values, key=lambda n: (-np.nan_to_num(values[n]), n))
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 1.0 + 0.5 * max(len(names), 1)))
    y = np.arange(len(names))[::-1]
    ax.barh(y, [np.nan_to_num(values[n]) for n in names], color="#4c72b0")
    ax.set_yticks(y, [mathtext(n) for n in names])
    ax.set_xlabel(MEASURE_LABEL.get(measure, measure))
    ax.set_title(mathtext(f"{result.policy_id} v{result.policy_version}: parameter sensitivity "
                          f"of {output.replace('_', ' ')} ({result.design.n_variants:,} "
                          "variants)"))
    ax.spines[["top", "right"]].set_visible(False)
    return _save(fig, out)


def stability_chart(result, path: str | Path) -> Path:
    """Each organisation as a dot: its stability (share of runs in its modal level) in the
    last period looked at, sorted, coloured by the modal level."""
    out = _check(path)
    prob = result.level_probabilities()[-1]                 # [E, L]
    decided = ~np.isnan(prob).all(axis=1)
    prob = prob[decided]
    modal = np.argmax(prob, axis=1)
    stability = prob[np.arange(len(prob)), modal]
    order = np.lexsort((modal, stability))
    plt = _pyplot()
    colours = _colours(len(result.run.level_ids))
    fig, ax = plt.subplots(figsize=(9, 3.8))
    x = np.arange(len(order))
    for k, label in enumerate(result.run.level_labels):
        sel = modal[order] == k
        if sel.any():
            ax.scatter(x[sel], stability[order][sel], s=10, color=colours[k],
                       label=mathtext(label))
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("organisations, least stable first")
    ax.set_ylabel("share of runs in the modal level")
    period = result.run.period_labels[-1] if result.run.period_labels else ""
    ax.set_title(mathtext(f"{result.policy_id} v{result.policy_version}: stability of each "
                          f"organisation's level, {period}"))
    ax.legend(loc="lower right", frameon=False, fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return _save(fig, out)
