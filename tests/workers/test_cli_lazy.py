"""``medpipe --help`` imports no command: each call pays only for the command it runs.

Structural, not timed: a fresh interpreter runs the command and reports which
modules it imported (``sys.modules`` at exit); the heavy ones must be absent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import click
import pytest

from medpipe.workers.cli import COMMANDS
from medpipe.workers.cli_lazy import LazyCommand, LazyGroup

#: Modules no ``--help`` may import (each costs from 0.1 s to seconds of CPU).
HEAVY = (
    "medpipe.activities.deid",  # the de-identification engine and its gazetteers
    "medpipe.activities.pseudonymize",
    "great_expectations",
    "onnxruntime",
    "temporalio.worker",
    "pyarrow.compute",
)

#: Runs the CLI in this interpreter as ``python -m medpipe`` would, then prints the imported
#: modules (the command exits through SystemExit; ``finally`` still runs).
_WRAPPER = """
import json, sys
sys.argv = ["medpipe", *json.loads(sys.argv[1])]
try:
    from medpipe.workers.cli import run
    run()
finally:
    print("\\n@@MODULES@@" + json.dumps(sorted(sys.modules)))
"""


def _modules_of(*args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    done = subprocess.run([sys.executable, "-c", _WRAPPER, json.dumps(args)],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "80"})
    out, _, modules = done.stdout.rpartition("\n@@MODULES@@")
    assert modules, done.stderr[-2000:]
    return subprocess.CompletedProcess(done.args, done.returncode, out, done.stderr), \
        set(json.loads(modules))


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_help_imports_none_of_the_heavy_modules() -> None:
    done, modules = _modules_of("--help")
    assert done.returncode == 0, done.stderr
    for name in COMMANDS:  # every command listed, with its line
        assert f"  {name} " in done.stdout, (name, done.stdout)
    assert not _heavy(modules), _heavy(modules)
    assert not [m for m in modules if m.startswith("medpipe.workers.cli_")
                and m not in ("medpipe.workers.cli_lazy",)], "a command module was imported"


def test_a_command_imports_its_own_module_only() -> None:
    done, modules = _modules_of("front", "--help")
    assert done.returncode == 0 and "Usage: medpipe front" in done.stdout, done.stderr
    assert "medpipe.workers.cli_front" in modules
    assert "medpipe.workers.cli_pseudo" not in modules and "medpipe.workers.cli_release" \
        not in modules
    assert not _heavy(modules), _heavy(modules)
    # a command that never talks to Temporal does not load its SDK (cli_errors, cli_output)
    assert "temporalio.client" not in modules and "temporalio.service" not in modules


def test_the_check_sees_a_heavy_import() -> None:
    """The probe is real: a command that loads the de-id engine shows it."""
    done, modules = _modules_of("pseudonymize", "--help")
    assert done.returncode == 0, done.stderr
    assert "medpipe.activities.deid" in _heavy(modules)


_EAGER_HELP = """
import click
from medpipe.workers.cli import main
ctx = click.Context(main)
for name in main.list_commands(ctx):
    command = main.get_command(ctx, name)
    assert command is not None and command.name == name, (name, command)
main.lazy.clear()  # every command is an ordinary, imported one now
main(["--help"], prog_name="medpipe")
"""


def test_help_reads_as_with_every_command_imported() -> None:
    """The lines kept in ``COMMANDS`` are the commands' own (no drift from docstrings)."""
    lazy, _ = _modules_of("--help")
    eager = subprocess.run([sys.executable, "-c", _EAGER_HELP], capture_output=True, text=True,
                           timeout=120, env={**os.environ, "COLUMNS": "80"})
    assert eager.returncode == 0, eager.stderr[-2000:]
    assert "Commands:" in eager.stdout and lazy.stdout == eager.stdout


def test_an_unknown_command_is_a_usage_error() -> None:
    done, modules = _modules_of("relase")
    assert done.returncode == 2 and "No such command 'relase'" in done.stderr, done.stderr
    assert not _heavy(modules)


def test_completion_lists_commands_without_importing_them() -> None:
    group = LazyGroup(name="g", lazy={"later": LazyCommand("no.such.module:cmd", "Later.")})

    @group.command()
    def now() -> None:
        """Now."""

    ctx = click.Context(group)
    assert [(c.value, c.help) for c in group.shell_complete(ctx, "")] == \
        [("later", "Later."), ("now", "Now.")]
    with pytest.raises(ModuleNotFoundError, match="no"):
        group.get_command(ctx, "later")  # imported only when chosen
