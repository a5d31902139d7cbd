"""One way of printing refusals, on every command; missing extras named by the table."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from temporalio.service import RPCError, RPCStatusCode

from medpipe.contracts.errors import (
    IdentifiersFound,
    InvalidInput,
    KeyUnavailable,
    NotFound,
    ProviderUnavailable,
    SignatureInvalid,
)
from medpipe.workers.cli import main
from medpipe.workers.cli_errors import MARKER, clear_errors
from medpipe.workers.extras import EXTRA_OF_MODULE, extra_for, missing_extras, require_extras
from tests.depscan import ROOT, SHIPPED, declared, imports_of, owner_of, python_files


def _leaves(group: click.Group, path: str = "medpipe") -> Iterator[tuple[str, click.Command]]:
    ctx = click.Context(group)
    for name in group.list_commands(ctx):  # lazy commands too (imported here)
        cmd = group.get_command(ctx, name)
        assert cmd is not None, name
        if isinstance(cmd, click.Group):
            yield from _leaves(cmd, f"{path} {name}")
        else:
            yield f"{path} {name}", cmd


def test_every_command_reports_refusals_through_clear_errors() -> None:
    leaves = dict(_leaves(main))
    assert len(leaves) >= 25
    unwrapped = [name for name, cmd in leaves.items() if not getattr(cmd.callback, MARKER, False)]
    assert not unwrapped, f"commands without @clear_errors (or run_async): {unwrapped}"


def test_the_check_sees_an_unwrapped_command() -> None:
    @click.group()
    def group() -> None: ...

    @group.command()
    def bare() -> None: ...

    @group.command()
    @clear_errors
    def wrapped() -> None: ...

    assert [n for n, c in _leaves(group) if not getattr(c.callback, MARKER, False)] == \
        ["medpipe bare"]


def _command(exc: BaseException) -> click.Command:
    @click.command()
    @clear_errors
    def cmd() -> None:
        raise exc

    return cmd


@pytest.mark.parametrize(("exc", "code", "line"), [
    (InvalidInput("model x.onnx does not exist"), 2, "error: model x.onnx does not exist"),
    (SignatureInvalid("digest mismatch for model.onnx"), 1,
     "REFUSED: digest mismatch for model.onnx"),
    (ModuleNotFoundError("No module named 'model_signing'", name="model_signing"), 2,
     "error: this command needs model_signing, from the optional dependencies of "
     "medpipe[sign]: install medpipe[sign]"),
    (ModuleNotFoundError("No module named 'google.cloud.storage'", name="google.cloud.storage"),
     2, "install medpipe[gcp]"),
    (ModuleNotFoundError("No module named 'yaml'", name="yaml"), 2,
     "error: the Python module yaml is missing from this installation: reinstall medpipe"),
    (ProviderUnavailable("cannot reach Temporal at 127.0.0.1:1"), 3,
     "error: cannot reach Temporal at 127.0.0.1:1"),
    (KeyUnavailable("KMS at http://kms:4566 does not answer"), 3, "does not answer"),
    (RPCError("deadline exceeded", RPCStatusCode.DEADLINE_EXCEEDED, b""), 3,
     "Temporal refused the request: deadline exceeded"),
    (RPCError("workflow not found", RPCStatusCode.NOT_FOUND, b""), 1,
     "Temporal refused the request: workflow not found"),
    (IdentifiersFound("identifiers left after pseudonymization — notes: SSN 3"), 1,
     "error: identifiers left"),
    (NotFound("no canary for release release-x-1"), 1, "error: no canary"),
    (PermissionError(13, "Permission denied", "/data/medpipe/keys"), 1,
     "error: cannot use /data/medpipe/keys: Permission denied"),
    (FileNotFoundError(2, "No such file or directory", "/nowhere/policy.yaml"), 2,
     "error: cannot use /nowhere/policy.yaml: No such file or directory"),
])
def test_a_refusal_is_one_line_with_its_exit_code(exc: BaseException, code: int,
                                                  line: str) -> None:
    result = CliRunner().invoke(_command(exc), [])
    assert result.exit_code == code, result.output
    assert line in result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_anything_else_is_not_swallowed() -> None:
    result = CliRunner().invoke(_command(ZeroDivisionError("bug")), [])
    assert isinstance(result.exception, ZeroDivisionError)


def test_missing_extras_are_named_all_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    assert missing_extras("sign", "validate", "gateway", "aws") == []  # the test env has all
    monkeypatch.setitem(EXTRA_OF_MODULE, "no_such_sdk_for_the_test", "validate")
    monkeypatch.setitem(EXTRA_OF_MODULE, "another_missing_sdk", "hsm")
    assert missing_extras("sign", "validate", "hsm") == ["validate", "hsm"]
    with pytest.raises(InvalidInput, match=r"install medpipe\[validate,hsm\]"):
        require_extras("a worker", "sign", "validate", "hsm")


def test_the_extras_table_matches_pyproject() -> None:
    """Every import that only an extra provides is in the table, under an extra that
    declares its distribution; and every entry names a declared extra."""
    spec = declared()
    problems = []
    for path in python_files(*(ROOT / f for f in SHIPPED if f != "medpipe")):
        for imp in imports_of(path):
            owner = owner_of(imp.module)
            if owner is None or owner in spec.base or not spec.extras_of(owner):
                continue
            extra = extra_for(imp.module)
            if extra not in spec.extras_of(owner):
                problems.append(f"{path.relative_to(ROOT)}:{imp.line} {imp.module} "
                                f"({owner}, in {spec.extras_of(owner)}) maps to {extra}")
    assert not problems, "\n".join(problems)
    assert set(EXTRA_OF_MODULE.values()) <= set(spec.extras)


def test_a_refusal_after_a_temporal_client_is_never_a_crash() -> None:
    """temporalio/sdk-python#300: the SDK's threads could abort interpreter teardown (SIGABRT,
    about one run in three here) after the one-line refusal; ``cli.run`` exits without it."""
    import subprocess
    import sys

    from medpipe.workers.devserver import free_port

    for _ in range(8):
        r = subprocess.run([sys.executable, "-m", "medpipe", "--address",
                            f"127.0.0.1:{free_port()}", "list"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 3, r.stderr[-2000:]
        assert "cannot reach Temporal" in r.stderr and "Fatal Python error" not in r.stderr


def test_dev_up_without_an_emulator_refuses_before_starting_anything(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from medpipe.workers import dev, emulators

    def must_not_start(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("dev up started the stack without its emulators")

    monkeypatch.setattr(dev, "up", must_not_start)
    home = tmp_path / "home"
    monkeypatch.setenv("MEDPIPE_HOME", str(home))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.delenv("MEDPIPE_AZURITE_BLOB", raising=False)
    monkeypatch.setattr(emulators, "ROOT", tmp_path / "no-checkout")
    result = CliRunner().invoke(main, ["dev", "up", "--storage", "emulated"])
    assert result.exit_code == 2, result.output
    assert "azurite-blob is missing" in result.output and "Traceback" not in result.output
    assert not home.exists()
