"""`regime data ...`: make the synthetic sample, validate data files, import NHS England files.

The main CLI registers the group with `cli.add_command(data)`. Problems in the user's data are
printed as diagnostics with exit status 1, never as tracebacks.
"""

from __future__ import annotations

import os
from functools import wraps
from pathlib import Path

import click

from .. import codes
from ..diagnostics import Diagnostic, RegimeError
from .common import fail_cleanly


def _write_errors(func):
    """Run a writing step; an OSError (a folder that cannot be made, a file that cannot be
    written) becomes a RegimeError naming the path."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except OSError as e:
            where = os.fspath(e.filename) if e.filename else None
            raise RegimeError(Diagnostic(f"cannot write: {e.strerror or e}", file=where,
                                         code=codes.DATA)) from None

    return wrapper


def _not_empty(ctx, param, value):
    if value is not None and not value.strip():
        raise click.BadParameter("the path is empty: name a folder or file")
    return value


@click.group("data")
def data() -> None:
    """Make the sample data, validate data files, import NHS England statistics."""


@data.command("synth")
@click.option("--seed", type=click.IntRange(min=0), required=True,
              help="Seed of the random generator (a whole number, 0 or more).")
@click.option("--out", "out", type=click.Path(file_okay=False), required=True,
              callback=_not_empty,
              help="Folder to write the wide metrics file, entities.csv and README.md into: a "
                   "new or empty folder, or one holding an earlier sample.")
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv"]), default="parquet",
              show_default=True)
@click.option("--force", is_flag=True,
              help="Write into a folder that holds other files, overwriting files named "
                   "metrics.<format>, entities.csv or README.md.")
@fail_cleanly
def synth_cmd(seed: int, out: str, fmt: str, force: bool) -> None:
    """Write a synthetic panel (about 220 trusts, 36 months, every catalogue metric)."""
    from ..data.sample import write_sample

    paths = _write_errors(write_sample)(out, seed, fmt=fmt, force=force)
    for p in paths:
        click.echo(f"wrote {p}")


@data.command("validate")
@click.argument("path", type=click.Path())
@click.option("--entities", "entities", type=click.Path(), default=None,
              help="The entities table (entity,name,kind,type,parent,region).")
@click.option("--policy", "policy", default=None,
              help="A policy id or file: check the data has its inputs, labels and ranges.")
@click.option("--policy-path", "policy_path", multiple=True, type=click.Path(file_okay=False),
              help="A folder of policy files to search first (repeatable).")
@fail_cleanly
def validate_cmd(path: str, entities: str | None, policy: str | None,
                 policy_path: tuple[str, ...]) -> None:
    """Check a data file or folder; print a summary or every problem found."""
    from ..data.loaders import load_panel

    checked = None
    if policy is not None:
        from ..check.checker import check
        from ..policy.load import looks_like_path, read_policy, search_path

        target = Path(policy) if looks_like_path(policy) else policy
        checked = check(read_policy(target, dirs=search_path(policy_path)))
    panel = load_panel(path, entities=entities, policy=checked)
    if checked is not None:
        from ..data.bind import bind

        bind(checked, panel)
    click.echo(f"ok: {len(panel.entities)} entities, {panel.n_periods} periods, "
               f"{len(panel.metrics)} metrics")


@data.group("import")
def import_group() -> None:
    """Import NHS England statistics into a wide data file plus an entities table."""


def _keep_other_entities(panel, path: Path) -> None:
    """Refuse to overwrite an entities table that differs from the one this import writes:
    it may describe other data in the folder, and an import must lose nothing."""
    import tempfile

    from ..diagnostics import DataError
    from ..files import ENTITIES, read_input
    from ..data.loaders import write_entities

    if not path.is_file():
        return
    with tempfile.TemporaryDirectory() as tmp:
        ours = Path(tmp) / "entities.csv"
        write_entities(panel.entities, ours)
        if ours.read_bytes() == read_input(path, limit=ENTITIES, error=DataError):
            return                      # the same import again
    raise RegimeError(Diagnostic(
        "an entities table with other contents is already here, and this import writes its "
        "own entities.csv beside the data", file=str(path), code=codes.DATA,
        hint="import into a new or empty folder, or move that entities.csv away first"))


def _check_import_target(out: str, sources: list[str], force: bool) -> None:
    """Refuse an import's --out before the import's work: not .parquet or .csv, named
    entities, in a folder that cannot be, one of the files the import reads, or an existing
    file without --force. The import's output replaces nothing it reads, with or without
    --force: an import must lose nothing."""
    from ..files import check_output, input_files

    target = Path(out)
    fmt = target.suffix.lower().lstrip(".")
    if fmt not in ("parquet", "csv"):
        raise RegimeError(f"{out}: write to a .parquet or .csv file")
    if target.stem.lower() == "entities":
        raise RegimeError(Diagnostic(
            "the data file cannot be named entities: the entities table is written beside it "
            "as entities.csv", file=out, code=codes.DATA, hint="name the data file otherwise, "
            f"e.g. {target.with_name('data' + target.suffix)}"))
    _check_folder(target.parent, out)
    inputs = input_files(sources)
    check_output(out, inputs=inputs, replace=force)
    check_output(target.parent / "entities.csv", inputs=inputs)


def _write(panel, out: str, sources: list[str], force: bool) -> None:
    from ..data.loaders import write_panel

    target = Path(out)
    fmt = target.suffix.lower().lstrip(".")
    # Checked again: the files may have changed while the import ran.
    _check_import_target(out, sources, force)
    _keep_other_entities(panel, target.parent / "entities.csv")
    # The entities go beside the data as entities.csv, where load_panel finds them.
    for p in _write_errors(write_panel)(panel, target.parent, fmt=fmt, name=target.stem):
        click.echo(f"wrote {p}")
    click.echo(f"{len(panel.entities)} entities, {panel.n_periods} months "
               f"({panel.period_labels[0]} to {panel.period_labels[-1]}), "
               f"{len(panel.metrics)} metrics")


def _check_folder(folder: Path, shown: str) -> None:
    """A RegimeError if `folder` cannot be a folder: it, or a folder above it, is a file."""
    try:
        for p in [folder, *folder.parents]:
            if p.exists():
                if not p.is_dir():
                    raise RegimeError(Diagnostic(f"{p} is a file, not a folder", file=shown,
                                                 code=codes.DATA))
                return
    except OSError as e:
        raise RegimeError(Diagnostic(f"cannot read the folder {folder}: {e.strerror or e}",
                                     file=shown, code=codes.DATA)) from None


_force_option = click.option(
    "--force", is_flag=True,
    help="Replace the --out file if it exists (never one of the files the import reads).")

_reference_option = click.option(
    "--trust-reference", "trust_reference", type=click.Path(file_okay=False), default=None,
    help="The trust_reference folder: names, regions, trust types, ICB parents.")


@import_group.command("ae-monthly")
@click.argument("src", type=click.Path())
@click.option("--out", "out", type=click.Path(dir_okay=False), required=True,
              callback=_not_empty,
              help="The file to write (.parquet or .csv); entities.csv goes beside it.")
@_reference_option
@_force_option
@fail_cleanly
def import_ae_monthly_cmd(src: str, out: str, trust_reference: str | None, force: bool) -> None:
    """NHS England's monthly A&E provider return."""
    from ..data.nhse import import_ae_monthly

    sources = [src] + ([trust_reference] if trust_reference else [])
    _check_import_target(out, sources, force)
    _write(import_ae_monthly(src, trust_reference=trust_reference), out, sources, force)


@import_group.command("ae-attendances")
@click.argument("src", type=click.Path())
@click.option("--out", "out", type=click.Path(dir_okay=False), required=True,
              callback=_not_empty,
              help="The file to write (.parquet or .csv); entities.csv goes beside it.")
@_reference_option
@click.option("--merge-successors", is_flag=True,
              help="Carry merged trusts' codes to their successors (needs --trust-reference).")
@_force_option
@fail_cleanly
def import_ae_attendances_cmd(src: str, out: str, trust_reference: str | None,
                              merge_successors: bool, force: bool) -> None:
    """The NHS-R Community ae_attendances table (2016-2019)."""
    from ..data.nhse import import_ae_attendances

    sources = [src] + ([trust_reference] if trust_reference else [])
    _check_import_target(out, sources, force)
    _write(import_ae_attendances(src, trust_reference=trust_reference,
                                 merge_successors=merge_successors), out, sources, force)
