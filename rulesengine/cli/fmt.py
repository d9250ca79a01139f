"""`regime fmt`: rewrite policy files in the canonical layout (or check that they are)."""

from __future__ import annotations

import sys

import click

from .common import fail_cleanly


@click.command("fmt")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--check", is_flag=True,
              help="Change nothing; exit 1 and show the diff when a file is not formatted.")
@click.option("--diff", "show_diff", is_flag=True,
              help="Change nothing; show what formatting would change.")
@fail_cleanly
def command(paths: tuple[str, ...], check: bool, show_diff: bool) -> None:
    """Format policy files (and policy test files) in place: key order, indentation, quoting
    and expressions in one canonical layout, comments kept. Folders are searched for .yaml
    files; with no PATH, standard input is formatted to standard output."""
    from ..diagnostics import PolicyError
    from ..authoring.fmt import format_text, policy_files, unified_diff
    from ..files import POLICY, read_stream
    from ..report.output import write
    from ..policy.load import read_policy_file, display_name

    if not paths:
        # as much as a policy file may hold, and no more: standard input may never end
        text = read_stream(sys.stdin.buffer, limit=POLICY, shown="<stdin>",
                           error=PolicyError).decode("utf-8", "surrogateescape")
        out = format_text(text, "<stdin>")
        if check or show_diff:
            diff = unified_diff(text, out, "<stdin>")
            click.echo(diff, nl=False)
            sys.exit(1 if check and diff else 0)
        click.echo(out, nl=False)
        return
    unformatted, errors = [], []
    for path in policy_files(paths):
        name = display_name(path)
        try:
            text = read_policy_file(path)
            out = format_text(text, name)
        except PolicyError as e:
            errors.append(e)
            click.echo(e.render(), err=True)
            continue
        if out == text:
            continue
        unformatted.append(name)
        if check or show_diff:
            click.echo(unified_diff(text, out, name), nl=False)
        else:
            write(path, out, option="fmt")    # atomic; the file keeps its permissions
            click.echo(f"formatted {name}", err=True)
    if check and unformatted:
        click.echo(f"{len(unformatted)} file(s) not formatted: {', '.join(unformatted)} "
                   f"(run `regime fmt` on them)", err=True)
    sys.exit(1 if errors or (check and unformatted) else 0)
