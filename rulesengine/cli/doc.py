"""`regime doc`: a policy as a document for readers who do not read YAML."""

from __future__ import annotations

import click

from .common import check_targets, fail_cleanly, policy_path_option, write


@click.command("doc")
@click.argument("policy_ref", metavar="POLICY")
@click.option("--out", type=click.Path(dir_okay=False),
              help="Write to FILE.md or FILE.html instead of printing markdown.")
@click.option("--format", "fmt", type=click.Choice(["markdown", "html"]), default=None,
              help="The output format (default: from --out's suffix, else markdown).")
@policy_path_option
@fail_cleanly
def command(policy_ref: str, out: str | None, fmt: str | None, policy_path) -> None:
    """Render POLICY (an id, a file, or either @ a git revision) as a document: its levels,
    each rule's condition in words, its parameters and its sources."""
    from ..authoring.doc import render
    from .common import load_policy

    check_targets(out)
    if fmt is None:
        fmt = "html" if out and out.lower().endswith((".html", ".htm")) else "markdown"
    checked, _revision = load_policy(policy_ref, policy_path)
    write(render(checked, fmt), out)
