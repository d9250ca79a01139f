"""The bundled sample data set: synthetic NHS bodies, written by `regime data synth`.

The files in `rulesengine/data/sample/` (a wide Parquet of every metric and `entities.csv`)
are the output of `synthesize(SAMPLE_SEED)`; `tests/data/test_synth.py` checks that they still
are. Regenerate them after changing the generator with

    regime data synth --seed 2022 --out rulesengine/data/sample

`write_sample` writes only into a new or empty folder or one that holds nothing but an
earlier sample (its README.md starts with `README_TITLE`), so it never overwrites a file it did
not write; `force=True` overwrites its files in any folder.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from .. import codes
from ..diagnostics import Diagnostic, RegimeError
from ..files import open_input, write_output
from .panel import Panel

SAMPLE_DIR = Path(__file__).with_name("sample")
SAMPLE_SEED = 2022
SAMPLE_SOURCE = f"bundled sample data (synthetic, seed {SAMPLE_SEED})"
README_TITLE = "# Sample data (synthetic)"
SAMPLE_FILES = ("metrics.parquet", "metrics.csv", "entities.csv", "README.md")


def sample_panel() -> Panel:
    """The bundled synthetic sample (about 220 trusts, 106 CCGs, 42 ICSs, 2004-04 to 2026-03),
    from the data cache (data/cache.py) while its files are unchanged: a warm run then reads
    only the metrics its policy uses."""
    from .cache import cached_panel

    files = sorted(p for p in SAMPLE_DIR.iterdir() if p.suffix in (".parquet", ".csv"))
    return cached_panel(files, _load_sample)


def _load_sample() -> Panel:
    # the CSV/Parquet readers: only when the data cache misses (a warm run never loads them)
    from .loaders import load_panel

    panel = load_panel(SAMPLE_DIR)
    return dataclasses.replace(panel, sources=(SAMPLE_SOURCE,))


def check_sample_folder(out: str | os.PathLike, *, fmt: str = "parquet",
                        force: bool = False) -> list[Path]:
    """Raise RegimeError unless the sample may be written to `out` (see `write_sample`);
    return the earlier sample's files that writing it in format `fmt` leaves stale."""
    shown = os.fspath(out)

    def refuse(message: str, hint: str | None = None):
        raise RegimeError(Diagnostic(message, file=shown or None, code=codes.DATA, hint=hint))

    if not shown.strip():
        refuse("the output folder is empty: name a folder to write the sample into")
    folder = Path(out)
    try:
        for p in [folder, *folder.parents]:
            if p.exists():
                if not p.is_dir():
                    refuse(f"{p} is a file, not a folder" if p != folder else
                           "this is a file, not a folder")
                break
        entries = sorted(e.name for e in folder.iterdir()) if folder.is_dir() else []
        readme = folder / "README.md"
        earlier = bool(entries) and set(entries) <= set(SAMPLE_FILES) and readme.is_file() \
            and _starts_with_title(readme)
    except OSError as e:
        refuse(f"cannot read the folder: {e.strerror or e}")
    if entries and not earlier and not force:
        others = [e for e in entries if e not in SAMPLE_FILES] or entries
        listed = ", ".join(others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5
                                          else "")
        refuse(f"the folder is not empty and does not hold an earlier sample (it has "
               f"{listed}): write the sample into a new or empty folder",
               hint=f"pass --force to write metrics.{fmt}, entities.csv and README.md into it "
                    f"anyway, overwriting files of those names")
    other = folder / ("metrics.csv" if fmt == "parquet" else "metrics.parquet")
    return [other] if earlier and other.name in entries else []


def _starts_with_title(readme: Path) -> bool:
    """Whether the file begins with the sample README's title (reading only that much: the
    folder is the user's, and its README.md may be anything)."""

    title = README_TITLE.encode("utf-8")
    try:
        with open_input(readme) as fh:
            return fh.read(len(title)) == title
    except RegimeError:
        return False


def write_sample(out: str | os.PathLike, seed: int, *, fmt: str = "parquet",
                 force: bool = False) -> list[Path]:
    """Synthesize the panel for `seed` and write it to `out` with a README naming the seed.

    `out` must be a new or empty folder or hold only an earlier sample, whose metrics file in
    the other format is removed (the folder would otherwise hold the data twice); with
    `force`, the sample's files are written into any folder, overwriting files of their names.
    Raises RegimeError for another folder, or a path that cannot be a folder."""
    from .synth import synthesize

    stale = check_sample_folder(out, fmt=fmt, force=force)
    panel = synthesize(seed)
    from .loaders import write_panel   # the writers (pyarrow for Parquet): only here

    paths = write_panel(panel, out, fmt=fmt)
    for p in stale:
        p.unlink()
    readme = Path(out) / "README.md"
    write_output(
        readme,
        f"{README_TITLE}\n\n"
        f"Generated by `regime data synth --seed {seed}` (rulesengine/data/synth.py). Every\n"
        "organisation, id and value is made up; only the NHS region names are real.\n"
        f"{len(panel.entities)} entities, {panel.n_periods} months from "
        f"{panel.period_labels[0]} to {panel.period_labels[-1]}, {len(panel.metrics)} metrics.\n")
    return paths + [readme]
