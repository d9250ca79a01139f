"""The `regime` command line: one module per command, each a thin click command over the
library; what they share (error handling, options, loading) is in `common`.

Commands are imported only when run (or listed in --help), so `regime eval` does not pay for
the test runner's, the data tools' or any other command's imports.
"""

from __future__ import annotations

import importlib
import os

import click

# command name -> (module, attribute); the module is imported on first use.
COMMANDS = {
    "list": ("rulesengine.cli.list", "command"),
    "check": ("rulesengine.cli.check", "command"),
    "eval": ("rulesengine.cli.eval", "command"),
    "explain": ("rulesengine.cli.explain", "command"),
    "diff": ("rulesengine.cli.diff", "command"),
    "report": ("rulesengine.cli.report", "command"),
    "sweep": ("rulesengine.cli.sweep", "command"),
    "test": ("rulesengine.cli.test", "command"),
    "data": ("rulesengine.cli.data", "data"),
    "fmt": ("rulesengine.cli.fmt", "command"),
    "lsp": ("rulesengine.cli.lsp", "command"),
    "doc": ("rulesengine.cli.doc", "command"),
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS))

    def get_command(self, ctx, name):
        if name in COMMANDS and name not in self.commands:
            module, attr = COMMANDS[name]
            self.add_command(getattr(importlib.import_module(module), attr), name)
        return super().get_command(ctx, name)


@click.group(cls=_LazyGroup,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="regime", prog_name="regime")
def cli() -> None:
    """regime: NHS intervention regimes as policy files, evaluated over organisations' metrics."""


def main() -> None:
    """Entry point of the `regime` console script."""
    # regime does no linear algebra, and OpenBLAS starts a thread per core when NumPy is
    # imported (about 50 ms of a warm `regime eval`); a user's own setting wins
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    cli(prog_name="regime")
