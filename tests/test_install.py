"""``pip install medpipe`` as a user gets it: the wheel, alone, with only the base dependencies.

The wheel is built from exactly what the Dockerfile copies into the image,
then installed with ``--no-deps`` into a fresh virtualenv that holds the
locked base dependencies (``requirements/base.txt``, hashes checked) and
nothing else: no extras, no source checkout on ``sys.path``. In there every
command answers ``--help``, a command that needs an extra names it (no
traceback), the layers import only as ``medpipe.*``, and ``--version``
prints the revision recorded at build time.

uv installs (it is in the test extra; pip gives the same result in a
minute instead of seconds). The environment is built once per module.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from medpipe.revision import REVISION_ENV

ROOT = Path(__file__).resolve().parents[1]
UV = str(Path(sys.executable).parent / "uv")
LAYERS = ("contracts", "workflows", "activities", "workers")
BUILT_REVISION = "0badc0de" * 5
DATA_SUFFIXES = (".json", ".yaml", ".csv", ".txt")  # [tool.setuptools.package-data]


@dataclass(frozen=True)
class BaseEnv:
    """A virtualenv with the wheel and the base dependencies only."""

    root: Path
    cwd: Path

    @property
    def python(self) -> str:
        return str(self.root / "bin" / "python")

    def run(self, *args: str,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """Run ``args`` (an executable of the venv, or python) outside the checkout."""
        clean = {"PATH": f"{self.root / 'bin'}:/usr/bin:/bin", "HOME": str(self.cwd),
                 "MEDPIPE_HOME": str(self.cwd / "home"), "LANG": "C.UTF-8",
                 **(env or {})}
        exe = args[0] if args[0] == self.python else str(self.root / "bin" / args[0])
        return subprocess.run([exe, *args[1:]], cwd=self.cwd, env=clean, capture_output=True,
                              text=True, timeout=120)


def _docker_copies() -> list[str]:
    """What the Dockerfile copies before ``pip install .``: the wheel is built from that."""
    names: list[str] = []
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY ") and "requirements/" not in line:
            names += line.split()[1:-1]
    return names


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src, out = tmp_path_factory.mktemp("src"), tmp_path_factory.mktemp("dist")
    for name in _docker_copies():
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(ROOT / name, src / name)
    env = {**os.environ, REVISION_ENV: BUILT_REVISION}
    subprocess.run([UV, "build", "--quiet", "--wheel", "--out-dir", str(out), str(src)],
                   check=True, env=env, capture_output=True, timeout=300)
    (built,) = out.glob("medpipe-*.whl")
    return built


@pytest.fixture(scope="module")
def base_env(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BaseEnv]:
    root = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--clear", "--without-pip", str(root)],
                   check=True, timeout=120)
    python = str(root / "bin" / "python")
    for args in (["--require-hashes", "-r", str(ROOT / "requirements" / "base.txt")],
                 ["--no-deps", str(wheel)]):
        done = subprocess.run([UV, "pip", "install", "--quiet", "--python", python, *args],
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
    yield BaseEnv(root, tmp_path_factory.mktemp("cwd"))


def test_the_wheel_installs_one_top_level_package(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == {"medpipe"}, top


def missing_from_wheel(root: Path, wheel: Path) -> tuple[int, list[str]]:
    """How many packages and data files the layers under ``root`` have, and which of
    them the wheel lacks (``pyproject.toml`` lists packages explicitly)."""
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = set()
    for layer in LAYERS:
        for path in (root / layer).rglob("*"):
            rel = path.relative_to(root).as_posix()
            if "__pycache__" in rel:
                continue
            if path.name == "__init__.py" or path.suffix in DATA_SUFFIXES:
                expected.add(f"medpipe/{rel}")
    return len(expected), sorted(expected - names)


def test_the_wheel_holds_every_package_and_data_file_of_the_layers(wheel: Path) -> None:
    count, missing = missing_from_wheel(ROOT, wheel)
    assert count >= 12
    assert not missing, f"not in the wheel (list the package in pyproject.toml): {missing}"


def test_a_package_left_out_of_pyproject_is_noticed(wheel: Path, tmp_path: Path) -> None:
    for layer in LAYERS:
        shutil.copytree(ROOT / layer, tmp_path / layer,
                        ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "workers" / "newpart").mkdir()
    (tmp_path / "workers" / "newpart" / "__init__.py").write_text("")
    assert missing_from_wheel(tmp_path, wheel)[1] == ["medpipe/workers/newpart/__init__.py"]


def test_the_layers_import_only_under_medpipe(base_env: BaseEnv) -> None:
    for layer in LAYERS:
        bare = base_env.run(base_env.python, "-c", f"import {layer}")
        assert bare.returncode != 0 and f"No module named '{layer}'" in bare.stderr, bare.stderr
    ok = base_env.run(base_env.python, "-c", "import medpipe.contracts.release, "
                      "medpipe.workflows.release, medpipe.workers.cli; print(medpipe.__file__)")
    assert ok.returncode == 0, ok.stderr
    assert "site-packages" in ok.stdout and str(ROOT) not in ok.stdout


# Run in the base environment: import every command's module, then `--help` each command.
_HELP_ALL = """
import json, sys
import click
from click.testing import CliRunner
from medpipe.workers.cli import main

def walk(group, path):
    ctx = click.Context(group)
    for name in group.list_commands(ctx):  # imports each lazy command's module
        cmd = group.get_command(ctx, name)
        yield path + [name], cmd
        if isinstance(cmd, click.Group):
            yield from walk(cmd, path + [name])

results = []
for path, cmd in walk(main, []):
    __import__(cmd.callback.__module__ if cmd.callback else "medpipe.workers.cli")
    r = CliRunner().invoke(main, path + ["--help"])
    results.append({"command": " ".join(path), "exit": r.exit_code,
                    "usage": r.output.startswith("Usage:"),
                    "error": repr(r.exception) if r.exception else None})
print(json.dumps(results))
"""


def test_every_command_answers_help_with_only_the_base_dependencies(base_env: BaseEnv) -> None:
    done = base_env.run(base_env.python, "-c", _HELP_ALL)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout)
    assert len(results) >= 25, [r["command"] for r in results]
    broken = [r for r in results if r["exit"] != 0 or not r["usage"]]
    assert not broken, broken
    for args in (["medpipe", "--help"], ["python", "-m", "medpipe", "--help"]):
        top = base_env.run(*args)
        assert top.returncode == 0 and "release" in top.stdout, top.stderr


@pytest.mark.parametrize(("args", "extras"), [
    (["worker", "--profile", "aws/us-east-1"], "sign,validate"),
    (["dev", "up"], "sign,validate,gateway"),
    (["gateway", "--tls-cert", "{pem}", "--tls-key", "{pem}", "--client-ca", "{pem}",
      "--model-name", "m"], "gateway"),
    (["verify", "{pem}", "--bundle", "{pem}", "--key", "{pem}"], "sign"),
    (["keys", "create", "k", "--provider", "aws-kms://us-east-1"], "aws"),
])
def test_a_command_needing_an_extra_names_it(base_env: BaseEnv, args: list[str],
                                             extras: str) -> None:
    pem = base_env.cwd / "any.pem"
    pem.write_text("not used: the extra is missing first\n")
    done = base_env.run("medpipe", *(a.format(pem=pem) for a in args))
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"install medpipe[{extras}]" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert not (base_env.cwd / "home" / "stack.json").exists()  # dev up started nothing


def test_version_names_the_revision_recorded_at_build(base_env: BaseEnv) -> None:
    built = base_env.run("medpipe", "--version")
    assert built.returncode == 0, built.stderr
    assert built.stdout.strip() == f"medpipe 0.1.0 (revision {BUILT_REVISION})"
    told = base_env.run("medpipe", "--version", env={REVISION_ENV: "c0ffee" * 6})
    assert f"(revision {'c0ffee' * 6})" in told.stdout

    # An installed copy inside some other git repository does not report that repository's
    # commit (a virtualenv inside a project checkout is common).
    git = ["git", "-C", str(base_env.root), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git[:3], "init", "-q"], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "unrelated"], check=True)
    inside = base_env.run("medpipe", "--version")
    assert inside.stdout.strip() == f"medpipe 0.1.0 (revision {BUILT_REVISION})"


def test_version_in_a_checkout_is_its_git_revision() -> None:
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.strip()
    env = {k: v for k, v in os.environ.items() if k != REVISION_ENV}
    done = subprocess.run([sys.executable, "-m", "medpipe", "--version"], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith(f"(revision {head})"), done.stdout
