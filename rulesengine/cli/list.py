"""`regime list`: the policies found in the search path."""

from __future__ import annotations

import json

import click

from .common import fail_cleanly, policy_path_option


@click.command("list")
@policy_path_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@fail_cleanly
def command(policy_path: tuple[str, ...], fmt: str) -> None:
    """List the policies found in the search path."""
    from ..policy.load import display_name, list_policies, search_path

    infos = list_policies(search_path(policy_path))
    if fmt == "json":
        click.echo(json.dumps([{"id": i.id, "title": i.title, "version": i.version,
                                "path": str(i.path)} for i in infos], indent=2))
        return
    from ..report.table import print_table

    print_table(["policy", "version", "title", "file"],
                [[i.id, i.version, i.title, display_name(i.path)] for i in infos])
