"""`regime doc`: a policy as a document for readers who do not read YAML, or the reference of
the built-in functions (from their registry, rulesengine/lang/builtins/), or the list of
diagnostic codes (rulesengine/codes.py)."""

from __future__ import annotations

import click

from .common import check_targets, fail_cleanly, policy_path_option, write


@click.command("doc")
@click.argument("policy_ref", metavar="POLICY", required=False)
@click.option("--builtin", "builtin_name", metavar="NAME",
              help="Document the built-in function NAME instead of a policy.")
@click.option("--builtins", "all_builtins", is_flag=True,
              help="Document every built-in function instead of a policy.")
@click.option("--codes", "all_codes", is_flag=True,
              help="List every diagnostic code and what it means (markdown).")
@click.option("--out", type=click.Path(dir_okay=False),
              help="Write to FILE.md or FILE.html instead of printing markdown.")
@click.option("--format", "fmt", type=click.Choice(["markdown", "html"]), default=None,
              help="The output format (default: from --out's suffix, else markdown).")
@policy_path_option
@fail_cleanly
def command(policy_ref: str | None, builtin_name: str | None, all_builtins: bool,
            all_codes: bool, out: str | None, fmt: str | None, policy_path) -> None:
    """Render POLICY (an id, a file, or either @ a git revision) as a document: its levels,
    each rule's condition in words, its parameters and its sources. With --builtin NAME or
    --builtins, the reference of the built-in functions instead; with --codes, the list of
    diagnostic codes."""
    from ..authoring.doc import render, render_builtins
    from .common import load_policy

    if all_codes:
        if policy_ref is not None or builtin_name is not None or all_builtins:
            raise click.UsageError("--codes takes no POLICY, --builtin or --builtins")
        if fmt == "html":
            raise click.UsageError("--codes writes markdown only")
        from .. import codes

        check_targets(out)
        write(codes.render_markdown(), out)
        return
    about_builtins = builtin_name is not None or all_builtins
    if about_builtins and policy_ref is not None:
        raise click.UsageError("give POLICY, --builtin NAME or --builtins, not several")
    if builtin_name is not None and all_builtins:
        raise click.UsageError("give --builtin NAME or --builtins, not both")
    if not about_builtins and policy_ref is None:
        raise click.UsageError("missing POLICY (or --builtin NAME, or --builtins)")
    check_targets(out)
    if fmt is None:
        fmt = "html" if out and out.lower().endswith((".html", ".htm")) else "markdown"
    if about_builtins:
        write(render_builtins(builtin_name, fmt), out)
        return
    checked, _revision = load_policy(policy_ref, policy_path)
    write(render(checked, fmt), out)
