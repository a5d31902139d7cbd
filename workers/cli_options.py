"""One name per concept across ``medpipe`` commands, with the old names kept as hidden aliases.

The names (README, "Command-line conventions"): ``-o/--output`` for a path a
command writes, ``--trusted-key`` for a public key a verification trusts,
``--key-uri`` for a key provider. Names used before the conventions still
parse (``--out``, ``--key``, ``--provider``) so scripts keep working, but
``--help`` shows only the current name.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import click


class AliasedOption(click.Option):
    """A click option whose ``hidden_aliases`` parse but are left out of ``--help``."""

    def __init__(self, *args: Any, hidden_aliases: Iterable[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hidden_aliases = frozenset(hidden_aliases)

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        """The help line, without the hidden aliases."""
        shown = [o for o in self.opts if o not in self.hidden_aliases]
        saved, self.opts = self.opts, shown or self.opts
        try:
            return super().get_help_record(ctx)
        finally:
            self.opts = saved


def output_path_option(dest: str, **kwargs: Any) -> Any:
    """``-o/--output PATH`` (``--out`` kept as a hidden alias): where a command writes."""
    return click.option("-o", "--output", "--out", dest, cls=AliasedOption,
                        hidden_aliases=("--out",), **kwargs)


def trusted_key_option(dest: str = "keys", **kwargs: Any) -> Any:
    """``--trusted-key PEM`` (repeatable; ``--key`` kept as a hidden alias)."""
    kwargs.setdefault("help", "Trusted public key (PEM); repeatable (old keys after a "
                              "rotation too).")
    return click.option("--trusted-key", "--key", dest, cls=AliasedOption,
                        hidden_aliases=("--key",), multiple=True, type=click.Path(), **kwargs)


def key_uri_option(dest: str = "key_uri", **kwargs: Any) -> Any:
    """``--key-uri URI`` of a key provider (``--provider`` kept as a hidden alias)."""
    return click.option("--key-uri", "--provider", dest, cls=AliasedOption,
                        hidden_aliases=("--provider",), metavar="URI", **kwargs)
