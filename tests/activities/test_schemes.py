"""The one scheme registry: backends imported on first use, clear refusals."""

from __future__ import annotations

import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from medpipe.activities.schemes import SchemeRegistry
from medpipe.contracts.errors import InvalidInput

Opener = Callable[[str], str]


@pytest.fixture
def plugins(tmp_path: Path) -> Iterator[SchemeRegistry[Opener]]:
    """A registry over two throw-away backend modules: one works, one lacks its SDK."""
    registry: SchemeRegistry[Opener] = SchemeRegistry(
        "unknown demo scheme", {"demo": "medpipe_demo_backend", "cloud": "medpipe_demo_cloud"})
    (tmp_path / "medpipe_demo_backend.py").write_text(
        "from medpipe_demo_registry import REGISTRY\n"
        "@REGISTRY.register('demo')\n"
        "def open_demo(uri):\n    return 'opened ' + uri\n")
    (tmp_path / "medpipe_demo_cloud.py").write_text(
        "from medpipe.activities.schemes import require_sdk\n"
        "sdk = require_sdk('no_such_vendor_sdk_xyz', 'demo-cloud', 'no-such-vendor-sdk')\n")
    holder = types.ModuleType("medpipe_demo_registry")
    holder.REGISTRY = registry  # type: ignore[attr-defined]
    sys.modules["medpipe_demo_registry"] = holder
    sys.path.insert(0, str(tmp_path))
    try:
        yield registry
    finally:
        sys.path.remove(str(tmp_path))
        for name in ("medpipe_demo_backend", "medpipe_demo_cloud", "medpipe_demo_registry"):
            sys.modules.pop(name, None)


def test_a_backend_module_is_imported_on_first_use_only(
        plugins: SchemeRegistry[Opener]) -> None:
    assert "medpipe_demo_backend" not in sys.modules
    assert plugins.backend("demo://x")("demo://x") == "opened demo://x"
    assert "medpipe_demo_backend" in sys.modules
    assert plugins.backend("demo://y")("demo://y") == "opened demo://y"


def test_an_unknown_scheme_is_refused_naming_the_known_ones(
        plugins: SchemeRegistry[Opener]) -> None:
    with pytest.raises(InvalidInput, match=r"unknown demo scheme 'ftp://' in 'ftp://h/x' "
                                           r"\(known: cloud, demo\)"):
        plugins.backend("ftp://h/x")


def test_a_missing_sdk_names_the_extra_to_install(plugins: SchemeRegistry[Opener]) -> None:
    with pytest.raises(InvalidInput, match=r"no-such-vendor-sdk is not installed: "
                                           r"install medpipe\[demo-cloud\]"):
        plugins.backend("cloud://bucket")


def test_a_uri_without_scheme_takes_the_default() -> None:
    registry: SchemeRegistry[Opener] = SchemeRegistry("unknown", {}, default_scheme="plain")
    registry.register("plain")(lambda uri: "plain " + uri)
    assert registry.backend("/srv/data.csv")("/srv/data.csv") == "plain /srv/data.csv"
    with pytest.raises(InvalidInput, match="unknown '://'"):
        SchemeRegistry[Opener]("unknown", {}).backend("/srv/data.csv")
