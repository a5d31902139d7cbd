"""The emulated storage of the local stack, started exactly as ``dev up`` would.

The emulator processes come from ``workers.emulators.emulator_children`` (the
command lines the supervisor runs), the profiles from ``emulated_profiles``
over the default fleet; every emulated profile's store must then take and
give back an object, and what the GCS and Azure emulators hold must survive
their restart (their data lives under the stack's home).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from medpipe.activities.storage.base import open_store
from medpipe.contracts.placement import Cloud, WorkerProfile
from medpipe.workers.config import default_fleet
from medpipe.workers.emulators import (
    EmulatorPorts,
    emulated_profiles,
    emulated_worker_env,
    emulator_children,
    ensure_emulated_buckets,
)
from medpipe.workers.ports import free_block


def _free_base_port() -> int:
    """A base port with the two ports after it free too (a block for the three emulators)."""
    return free_block((0, 1, 2))


class Stack:
    """The emulator children, as processes this test owns (and always stops)."""

    def __init__(self, home: Path, ports: EmulatorPorts) -> None:
        self.home, self.ports = home, ports
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.children = {name: (cmd, env) for name, cmd, env in emulator_children(home, ports)}

    def start(self, name: str) -> None:
        cmd, env = self.children[name]
        log = open(self.home / f"{name}.log", "ab")  # noqa: SIM115 - handed to the child
        try:
            self.procs[name] = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=log,
                                                stderr=subprocess.STDOUT,
                                                stdin=subprocess.DEVNULL,
                                                start_new_session=True)
        finally:
            log.close()

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)  # its own session: node/python and any helpers
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.stop(name)


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    for name, value in emulated_worker_env().items():  # what worker processes get
        monkeypatch.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE",
                 "STORAGE_EMULATOR_HOST"):
        monkeypatch.delenv(name, raising=False)
    s = Stack(tmp_path / "home", EmulatorPorts.from_base(_free_base_port()))
    try:
        for name in s.children:
            s.start(name)
        yield s
    finally:
        s.stop_all()


def _profiles(home: Path, ports: EmulatorPorts) -> tuple[WorkerProfile, ...]:
    return emulated_profiles(default_fleet(home).profiles, ports)


def test_children_are_named_and_keep_data_under_home(tmp_path: Path) -> None:
    ports = EmulatorPorts.from_base(19000)
    assert (ports.s3, ports.gcs, ports.azure) == (19000, 19001, 19002)
    children = emulator_children(tmp_path, ports)
    assert [name for name, _, _ in children] == ["emulator-s3", "emulator-gcs",
                                                 "emulator-azure"]
    cmds = {name: cmd for name, cmd, _ in children}
    envs = {name: env for name, _, env in children}
    assert "19000" in cmds["emulator-s3"] and "19001" in cmds["emulator-gcs"] \
        and "19002" in cmds["emulator-azure"]
    assert all("127.0.0.1" in cmd for cmd in cmds.values())  # loopback only
    assert Path(envs["emulator-gcs"]["STORAGE_BASE"]).is_relative_to(tmp_path)
    assert "--in-memory" not in cmds["emulator-gcs"]
    location = Path(cmds["emulator-azure"][cmds["emulator-azure"].index("--location") + 1])
    assert location.is_relative_to(tmp_path) and location.is_dir()


def test_emulated_profiles_point_clouds_at_their_emulator(tmp_path: Path) -> None:
    ports = EmulatorPorts.from_base(19000)
    base = default_fleet(tmp_path).profiles
    profiles = {p.cloud: p for p in _profiles(tmp_path, ports)}
    assert profiles[Cloud.AWS].store_uri.startswith("s3://")
    assert profiles[Cloud.AWS].store_uri.endswith("?endpoint=http://127.0.0.1:19000")
    assert profiles[Cloud.GCP].store_uri.startswith("gs://")
    assert profiles[Cloud.GCP].store_uri.endswith("?endpoint=http://127.0.0.1:19001&emulator=1")
    assert profiles[Cloud.AZURE].store_uri.startswith("azblob://")
    assert profiles[Cloud.AZURE].store_uri.endswith(
        "?endpoint=http://127.0.0.1:19002/devstoreaccount1&emulator=1")
    onprem = next(p for p in base if p.cloud is Cloud.ONPREM)
    assert profiles[Cloud.ONPREM] == onprem  # stays on its local directory
    # everything but the store is the profile it was (queues, residency, accelerators)
    for before in base:
        after = profiles[before.cloud]
        assert after.model_dump(exclude={"store_uri"}) == before.model_dump(exclude={"store_uri"})


def test_ensure_buckets_says_which_emulator_is_not_answering(tmp_path: Path) -> None:
    profiles = _profiles(tmp_path, EmulatorPorts.from_base(_free_base_port()))
    with pytest.raises(TimeoutError, match="aws storage emulator at http://127.0.0.1:"):
        ensure_emulated_buckets(profiles, wait_s=0.3)


def test_emulated_stack_round_trips_an_object_per_cloud(stack: Stack) -> None:
    profiles = _profiles(stack.home, stack.ports)
    ensure_emulated_buckets(profiles)
    ensure_emulated_buckets(profiles)  # idempotent: existing buckets are kept
    payload = os.urandom(4096)
    emulated = [p for p in profiles if p.cloud is not Cloud.ONPREM]
    for p in emulated:
        store = open_store(p.store_uri)
        info = store.put(f"smoke/{p.cloud.value}.bin", [payload[:1000], payload[1000:]])
        assert info.size == len(payload)
        assert b"".join(store.get(f"smoke/{p.cloud.value}.bin")) == payload
        assert [i.key for i in store.list("smoke/")] == [f"smoke/{p.cloud.value}.bin"]

    # GCS and Azure keep their data under home: a restart of the stack loses nothing
    for name in ("emulator-gcs", "emulator-azure"):
        stack.stop(name)
        stack.start(name)
    ensure_emulated_buckets(profiles)
    for p in emulated:
        if p.cloud is Cloud.AWS:
            continue  # moto is in memory: its bucket is re-created, empty
        store = open_store(p.store_uri)
        assert b"".join(store.get(f"smoke/{p.cloud.value}.bin")) == payload


def test_dev_init_creates_the_emulated_buckets_once(stack: Stack, tmp_path: Path) -> None:
    """`medpipe dev init` on the emulated stack makes each cloud profile's bucket on its
    emulator; a second run keeps them (and what they hold)."""
    import sys

    from medpipe.workers.emulators import answers, endpoint

    for port in (stack.ports.s3, stack.ports.gcs, stack.ports.azure):
        deadline = time.monotonic() + 60
        while not answers(endpoint(port)):  # init expects its emulators up, as dev up waits
            assert time.monotonic() < deadline, stack.home
            time.sleep(0.1)
    config = tmp_path / "medpipe.yaml"
    config.write_text(f"emulator_base_port: {stack.ports.s3}\n")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("MEDPIPE_")},
           "MEDPIPE_HOME": str(stack.home), "MEDPIPE_CONFIG": str(config),
           "MEDPIPE_STORAGE": "emulated"}

    def dev_init() -> None:
        r = subprocess.run([sys.executable, "-m", "medpipe", "dev", "init"], env=env,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr

    dev_init()
    emulated = [p for p in _profiles(stack.home, stack.ports) if p.cloud is not Cloud.ONPREM]
    assert {p.store_uri.split("://")[0] for p in emulated} == {"s3", "gs", "azblob"}
    for p in emulated:  # the bucket exists: it takes an object
        open_store(p.store_uri).put("kept.txt", [p.cloud.value.encode()])
    dev_init()
    for p in emulated:
        assert b"".join(open_store(p.store_uri).get("kept.txt")) == p.cloud.value.encode()
