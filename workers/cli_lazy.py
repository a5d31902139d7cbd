"""A click group whose subcommands are imported only when chosen.

``medpipe`` has some thirty commands for five audiences; importing all of them
means the de-identification engine, great-expectations, onnxruntime, the
Temporal worker and pyarrow on every call, ``--help`` included (about 1.6 s of
CPU). ``LazyGroup`` names each command by ``module:attribute`` and keeps the
one line ``--help`` shows for it, so listing the commands imports none of
them and running one imports only its own module. A test renders ``--help``
with every command loaded and checks it reads the same, so the lines kept
here cannot drift from the commands' own docstrings.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import click
from click.shell_completion import CompletionItem


@dataclass(frozen=True)
class LazyCommand:
    """Where a subcommand lives, and its line in the group's ``--help``.

    Attributes:
        target: ``module:attribute`` of the ``click.Command``.
        help: the first paragraph of the command's help (what click shortens for the
            listing); a test keeps it equal to the command's own.
    """

    target: str
    help: str

    def load(self) -> click.Command:
        """Import the command's module and return the command."""
        module, _, attribute = self.target.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.target} is not a click command")
        return command


class LazyGroup(click.Group):
    """A ``click.Group`` that also holds ``lazy`` commands, imported on first use.

    Args:
        lazy: command name -> where it lives and its ``--help`` line.
    """

    def __init__(self, *args: Any, lazy: Mapping[str, LazyCommand] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy: dict[str, LazyCommand] = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command name, loaded or not, sorted (as click lists them)."""
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command ``cmd_name``, importing its module the first time."""
        command = self.commands.get(cmd_name)
        if command is None and cmd_name in self.lazy:
            command = self.lazy[cmd_name].load()
            self.add_command(command, cmd_name)
        return command

    def _short_help(self, name: str, limit: int) -> str | None:
        """The listing line of ``name`` without importing it (None: hidden)."""
        command = self.commands.get(name)
        if command is not None:
            return None if command.hidden else command.get_short_help_str(limit)
        # click shortens it as it would the command's own help
        return click.Command(name, help=self.lazy[name].help).get_short_help_str(limit)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The ``Commands:`` section, as ``click.Group`` writes it, from the kept lines."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [(name, text) for name in names
                if (text := self._short_help(name, limit)) is not None]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        """Command names (with their lines) and options, without importing the commands."""
        results = [CompletionItem(name, help=text) for name in self.list_commands(ctx)
                   if name.startswith(incomplete)
                   and (text := self._short_help(name, 45)) is not None]
        results.extend(click.Command.shell_complete(self, ctx, incomplete))
        return results


__all__ = ["LazyCommand", "LazyGroup"]
