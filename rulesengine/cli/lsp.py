"""`regime lsp`: the language server for policy files, over stdin/stdout."""

from __future__ import annotations

import click


@click.command("lsp")
def command() -> None:
    """Run the policy-file language server on stdin/stdout (for editors: diagnostics as you
    type, hover, go to definition, completion, document symbols, formatting)."""
    from ..authoring.lsp import serve

    serve()
