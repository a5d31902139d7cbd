"""The locks (``requirements/*.txt``) are what gets installed, and they match ``pyproject.toml``.

``pyproject.toml`` keeps ranges for library users; ``./run`` and the
Dockerfile install a lock (exact versions, every file's hash) so that two
installs a week apart are the same. A lock that no longer satisfies the
ranges (someone edited pyproject.toml and did not run ``./run lock``) fails
here, before an install on another machine resolves something else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.version import Version

from tests.depscan import ROOT, declared, normalize

#: Lock → the extras it installs ("" is the base alone).
LOCKS = {"base": (), "all": ("all",), "test": ("test",)}


@dataclass(frozen=True)
class Pin:
    """One ``name==version ; marker`` entry of a lock and its hashes."""

    name: str
    version: Version
    marker: str
    hashes: tuple[str, ...]


def read_lock(path: Path) -> list[Pin]:
    """Parse a pip requirements file with hashes (continuation lines joined)."""
    text = re.sub(r"\\\n\s*", " ", path.read_text())
    pins = []
    for line in text.splitlines():
        line = line.split(" #")[0].strip()
        if not line or line.startswith("#"):
            continue
        req = Requirement(line.split(" --hash=")[0].strip())
        (exact,) = list(req.specifier)
        assert exact.operator == "==", line
        pins.append(Pin(normalize(req.name), Version(exact.version),
                        str(req.marker) if req.marker else "",
                        tuple(sorted(set(re.findall(r"--hash=(\S+)", line))))))
    return pins


def _wanted(extras: tuple[str, ...]) -> list[Requirement]:
    """pyproject's requirements of the base plus ``extras`` (self-references followed)."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    todo, seen = list(extras), set()
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for r in project["optional-dependencies"][extra]:
            req = Requirement(r)
            if normalize(req.name) == "medpipe":
                todo += sorted(req.extras)
            else:
                reqs.append(req)
    return reqs


def unsatisfied(pins: list[Pin], wanted: list[Requirement]) -> list[str]:
    """Requirements the lock lacks or pins outside their range (for Python 3.11 on Linux)."""
    env = {"python_version": "3.11", "python_full_version": "3.11.7", "sys_platform": "linux",
           "platform_python_implementation": "CPython", "implementation_name": "cpython"}
    by_name: dict[str, list[Pin]] = {}
    for p in pins:
        if not p.marker or Marker(p.marker).evaluate(env):
            by_name.setdefault(p.name, []).append(p)
    problems = []
    for req in wanted:
        found = by_name.get(normalize(req.name), [])
        if not found:
            problems.append(f"{req} is not in the lock")
        problems += [f"{req} but the lock pins {p.version}" for p in found
                     if not req.specifier.contains(p.version, prereleases=True)]
    return problems


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_each_lock_pins_every_declared_dependency_within_its_range(lock: str) -> None:
    pins = read_lock(ROOT / "requirements" / f"{lock}.txt")
    problems = unsatisfied(pins, _wanted(LOCKS[lock]))
    assert not problems, f"run ./run lock: {problems}"
    assert all(p.hashes for p in pins), [p.name for p in pins if not p.hashes]


def test_a_stale_lock_is_noticed() -> None:
    pins = read_lock(ROOT / "requirements" / "base.txt")
    bumped = [Requirement("temporalio>=99"), Requirement("not-in-any-lock>=1")]
    assert unsatisfied(pins, bumped) == [
        f"temporalio>=99 but the lock pins {_version(pins, 'temporalio')}",
        "not-in-any-lock>=1 is not in the lock"]


def _version(pins: list[Pin], name: str) -> Version:
    return next(p.version for p in pins if p.name == name)


def test_the_locks_agree_on_every_version() -> None:
    """The demo and the base install the versions the tests ran against."""
    test = {(p.name, p.marker): p for p in read_lock(ROOT / "requirements" / "test.txt")}
    for lock in ("base", "all"):
        for p in read_lock(ROOT / "requirements" / f"{lock}.txt"):
            assert (p.name, p.marker) in test, f"{lock}.txt: {p.name} not in test.txt"
            assert test[(p.name, p.marker)].version == p.version, (lock, p.name)
            assert test[(p.name, p.marker)].hashes == p.hashes, (lock, p.name)


def test_lock_sizes_follow_their_use() -> None:
    sizes = {lock: {p.name for p in read_lock(ROOT / "requirements" / f"{lock}.txt")}
             for lock in LOCKS}
    assert sizes["base"] < sizes["all"] < sizes["test"]
    assert "model-signing" not in sizes["base"] and "pytest" not in sizes["all"]
    assert declared().base <= sizes["base"]


def test_run_and_the_dockerfile_install_the_locks() -> None:
    run = (ROOT / "run").read_text()
    assert 'pip" install -q --require-hashes -r "$lock"' in run
    assert 'pip" install -q --no-deps -e .' in run
    assert 'stamp="$VENV/.medpipe-$1-$(cat "$lock" ' in run  # a changed lock reinstalls
    docker = (ROOT / "Dockerfile").read_text()
    assert "pip install --require-hashes -r requirements/all.txt" in docker
    assert "pip install --no-deps ." in docker
