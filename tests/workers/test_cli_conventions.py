"""CLI conventions for scripts, through the real command (``python -m medpipe``).

Exit codes 0/1/2/3, ``--output json``, nothing wrapped in a pipe, one name per
concept (old names still parse), shell completion, no traceback on a refusal.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from medpipe.activities.keys.base import open_provider
from medpipe.activities.signing.oms import sign_model
from medpipe.contracts.names import SearchAttr, WorkflowName
from medpipe.workers.devserver import TemporalDevServer, free_port

#: Run as the image's user (a uid with no passwd entry, like containers), reading anywhere as
#: the compose test does, writing only where that uid may: see tests/test_compose.py.
AS_OTHER_UID = ["setpriv", "--reuid=10001", "--regid=10001", "--clear-groups",
                "--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"] \
    if os.getuid() == 0 else []


def medpipe(*args: str, env: dict[str, str] | None = None, timeout: float = 120,
            prefix: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    """The command as a script runs it: stdout and stderr piped, an 80-column COLUMNS."""
    return subprocess.run([*(prefix or []), sys.executable, "-m", "medpipe", *args],
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "COLUMNS": "80", **(env or {})})


def _read_only_volume(path: Path) -> Path:
    """A directory the command's user cannot write (a root-owned named volume, or 0500)."""
    path.mkdir(mode=0o755 if AS_OTHER_UID else 0o500)
    return path


@pytest.fixture(scope="module")
def signed_once(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A model signed with a local key, its bundle and the public key (written by the CLI),
    made once for the module: tests read them (``signed`` copies the model per test)."""
    tmp_path = tmp_path_factory.mktemp("signed")
    keyring = f"local://{tmp_path}/keys/keyring.json"
    created = medpipe("keys", "create", "signer", "--key-uri", keyring, "--signing")
    assert created.returncode == 0, created.stderr
    pub = tmp_path / "signer.pub.pem"
    exported = medpipe("keys", "export-public", "signer", "--key-uri", keyring, "-o", str(pub))
    assert exported.returncode == 0 and pub.read_bytes().startswith(b"-----BEGIN"), \
        exported.stderr
    model = tmp_path / "model.onnx"
    model.write_bytes(b"onnx" * 5_000)
    bundle = tmp_path / "model.onnx.sig"
    provider = open_provider(keyring)
    sign_model(model, bundle, provider, "signer", identity={"release_id": "release-x-1"})
    return {"model": model, "bundle": bundle, "pub": pub, "keyring": Path(keyring[8:])}


@pytest.fixture
def signed(signed_once: dict[str, Path], tmp_path: Path) -> dict[str, Path]:
    """``signed_once`` with a copy of the model of this test's own (a test tampers with it)."""
    model = tmp_path / "model.onnx"
    shutil.copyfile(signed_once["model"], model)
    return {**signed_once, "model": model}


# -- 1. exit codes ---------------------------------------------------------------------------
def test_exit_0_ok_and_json_is_the_contract(signed: dict[str, Path]) -> None:
    r = medpipe("verify", str(signed["model"]), "--bundle", str(signed["bundle"]),
                "--trusted-key", str(signed["pub"]), "--output", "json")
    assert r.returncode == 0, r.stderr
    verified = json.loads(r.stdout)
    assert verified["model_name"] and verified["key_fingerprint"]
    assert verified["identity"] == {"release_id": "release-x-1"}


def test_exit_1_a_refusal(signed: dict[str, Path]) -> None:
    data = bytearray(signed["model"].read_bytes())
    data[100] ^= 1
    signed["model"].write_bytes(bytes(data))
    r = medpipe("verify", str(signed["model"]), "--bundle", str(signed["bundle"]),
                "--trusted-key", str(signed["pub"]))
    assert r.returncode == 1, r.stdout + r.stderr
    assert r.stderr.startswith("REFUSED:") and "Traceback" not in r.stderr
    assert r.stdout == ""


@pytest.mark.parametrize("args", [
    ("status",),                              # missing argument (click)
    ("list", "--output", "xml"),              # bad choice (click)
    ("verify",),                              # no model and no --evidence (ours)
    ("verify", "/nonexistent/model.onnx"),    # a file that does not exist
])
def test_exit_2_usage(args: tuple[str, ...]) -> None:
    r = medpipe(*args)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Traceback" not in r.stderr and r.stderr.strip()


def test_exit_3_infrastructure_unreachable() -> None:
    for args in (("list",), ("status", "release-x-1", "--output", "json"), ("canary", "x-1")):
        r = medpipe("--address", f"127.0.0.1:{free_port()}", *args)
        assert r.returncode == 3, r.stdout + r.stderr
        assert "cannot reach Temporal" in r.stderr and "Traceback" not in r.stderr


# -- 2. and 3. --output json, and no wrapping in a pipe ---------------------------------------
LONG_CLOUD = "onprem-university-hospital-of-somewhere-far-away/eu-central-reserved-zone-7"
LONG_UI = "https://temporal-ui.clinical-ops.example-hospital-network.org/with/a/long/prefix"


@pytest.fixture
async def listed(temporal_server: TemporalDevServer, tmp_path: Path) -> dict[str, str]:
    """A ReleaseWorkflow with long search attributes (no worker: ``list`` reads only those)."""
    model = f"pipe-{uuid.uuid4().hex[:8]}"
    client = await Client.connect(temporal_server.address)
    handle = await client.start_workflow(
        WorkflowName.RELEASE, id=f"release-{model}-1", task_queue=f"nowhere-{model}",
        search_attributes=TypedSearchAttributes([
            SearchAttributePair(SearchAttr.MODEL, model),
            SearchAttributePair(SearchAttr.VERSION, "1"),
            SearchAttributePair(SearchAttr.CLOUD, LONG_CLOUD),
            SearchAttributePair(SearchAttr.STAGE, "ingest"),
            SearchAttributePair(SearchAttr.STATE, "running")]))
    config = tmp_path / "medpipe.yaml"
    config.write_text(yaml.safe_dump({"temporal_address": temporal_server.address,
                                      "ui_url": LONG_UI, "payload_codec": False}))
    try:
        yield {"model": model, "config": str(config), "id": handle.id}
    finally:
        await handle.terminate("test over")


async def test_list_in_a_pipe_is_not_wrapped_and_json_parses(listed: dict[str, str]) -> None:
    import asyncio

    env = {"MEDPIPE_CONFIG": listed["config"]}
    for _ in range(50):  # visibility is eventually consistent
        table = medpipe("list", "--model", listed["model"], env=env)
        if listed["id"] in table.stdout:
            break
        await asyncio.sleep(0.2)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    row = [ln for ln in lines if listed["id"] in ln]
    assert len(row) == 1 and LONG_CLOUD in row[0], table.stdout
    assert "…" not in table.stdout
    ui = [ln for ln in lines if "UI: " in ln]
    assert len(ui) == 1 and f"UI: {LONG_UI}/namespaces/default/workflows?query=" in ui[0], \
        table.stdout
    as_json = json.loads(medpipe("list", "--model", listed["model"], "--output", "json",
                                 env=env).stdout)
    assert [(r["release"], r["cloud"]) for r in as_json] == [(listed["id"], LONG_CLOUD)]
    assert as_json[0]["ui"] == f"{LONG_UI}/namespaces/default/workflows/{listed['id']}"
    legacy = json.loads(medpipe("list", "--model", listed["model"], "--json", env=env).stdout)
    assert legacy == as_json


def test_dev_status_and_ledger_show_as_json(tmp_path: Path) -> None:
    r = medpipe("dev", "status", "--output", "json", env={"MEDPIPE_HOME": str(tmp_path / "h")})
    assert r.returncode == 1 and json.loads(r.stdout)["running"] is False, r.stdout
    store = tmp_path / "ledger"
    store.mkdir()
    shown = medpipe("ledger", "show", "--store", f"file://{store}", "--output", "json")
    assert shown.returncode == 0 and json.loads(shown.stdout) == [], shown.stderr


# -- 4. one name per concept; the old names still parse, unshown -----------------------------
@pytest.mark.parametrize(("command", "shown", "hidden"), [
    (("sample",), "-o, --output", "--out"),
    (("spec", "init"), "-o, --output", "--out"),
    (("policy", "init"), "-o, --output", "--out"),
    (("keys", "export-public"), "-o, --output", "--out"),
    (("keys", "create"), "--key-uri", "--provider"),
    (("verify",), "--trusted-key", "--key"),
    (("ledger", "verify"), "--trusted-key", "--key"),
    (("evidence",), "--public-key", "--key"),
])
def test_help_shows_one_name(command: tuple[str, ...], shown: str, hidden: str) -> None:
    r = medpipe(*command, "--help")
    assert r.returncode == 0 and shown in r.stdout, r.stdout
    assert not re.search(rf"(?<![\w-]){re.escape(hidden)}(?![\w-])", r.stdout), r.stdout


def test_old_names_still_parse(signed: dict[str, Path], tmp_path: Path) -> None:
    keyring = f"local://{signed['keyring']}"
    out = tmp_path / "again.pem"
    r = medpipe("keys", "export-public", "signer", "--provider", keyring, "--out", str(out))
    assert r.returncode == 0 and out.read_bytes() == signed["pub"].read_bytes(), r.stderr
    r = medpipe("verify", str(signed["model"]), "--bundle", str(signed["bundle"]),
                "--key", str(signed["pub"]))
    assert r.returncode == 0 and r.stdout.startswith("OK:"), r.stderr


# -- 5. shell completion -------------------------------------------------------------------
def test_bash_completion_script_is_produced() -> None:
    script = Path(sys.executable).parent / "medpipe"  # the console script, as README says
    r = subprocess.run([str(script)], capture_output=True, text=True, timeout=60,
                       env={**os.environ, "_MEDPIPE_COMPLETE": "bash_source"})
    assert r.returncode == 0, r.stderr
    assert "_medpipe_completion()" in r.stdout and "complete -o nosort -F" in r.stdout
    words = subprocess.run(
        [sys.executable, "-m", "medpipe"], capture_output=True, text=True, timeout=60,
        env={**os.environ, "_MEDPIPE_COMPLETE": "bash_complete", "COMP_WORDS": "medpipe led",
             "COMP_CWORD": "1"})
    assert "plain,ledger" in words.stdout, words.stdout


# -- 6. no traceback on any refusal ----------------------------------------------------------
def test_bad_invocations_never_print_a_traceback(tmp_path: Path) -> None:
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("temporal_address: [unclosed\n  - : :\n")
    wrong_type = tmp_path / "wrong.yaml"
    wrong_type.write_text("temporal_address: 12\npayload_codec: maybe\n")
    unwritable = _read_only_volume(tmp_path / "ro")
    dead = f"127.0.0.1:{free_port()}"
    cases: list[tuple[str, ...]] = [
        ("--config", str(bad_yaml), "list"),
        ("--config", str(wrong_type), "list"),
        ("--config", str(tmp_path / "missing.yaml"), "list"),
        ("--address", dead, "list"),
        ("--address", dead, "rollback", "x-1", "--reason", "r"),
        ("--address", dead, "watch", "release-x-1"),
        ("release", "--model", str(tmp_path / "none.onnx"), "--data", "nothing.csv"),
        ("release", "--spec", str(tmp_path / "none.yaml")),
        ("verify", str(bad_yaml), "--trusted-key", str(tmp_path / "none.pem")),
        ("verify", "--evidence", str(tmp_path), "--trusted-key", str(bad_yaml)),
        ("ledger", "show", "--store", "nosuch://bucket"),
        ("ledger", "verify", "--store", "s3://bucket?endpoint=http://" + dead),
        ("ledger", "verify", "--store", f"file://{tmp_path}/empty", "--trusted-key",
         str(bad_yaml)),
        ("keys", "create", "k", "--key-uri", "nosuch://x"),
        ("keys", "export-public", "k", "--key-uri", f"local://{tmp_path}/none/keyring.json"),
        ("pseudonymize", str(tmp_path / "none.csv"), str(tmp_path / "out.csv")),
        ("policy", "init", str(bad_yaml), "-o", str(unwritable / "p.yaml")),
        ("sample", "-o", str(unwritable / "s"), "--patients", "5"),
        ("dev", "logs", "nosuch"),
    ]
    cases.append(("--config", str(_config(tmp_path, unwritable)), "dev", "init"))
    failures = []
    for args in cases:
        r = medpipe(*args, env={"MEDPIPE_HOME": str(tmp_path / "home")}, timeout=90,
                    prefix=AS_OTHER_UID)
        if r.returncode == 0 or "Traceback" in r.stderr or not r.stderr.strip():
            failures.append((args, r.returncode, r.stderr[-800:]))
    assert not failures, failures


def _config(tmp_path: Path, home: Path) -> Path:
    """A config whose state directory is a read-only volume (as a root-owned named volume)."""
    path = tmp_path / "ro-home.yaml"
    path.write_text(yaml.safe_dump({"home": str(home / "medpipe")}))
    return path


def test_dev_init_on_an_unwritable_volume_is_one_line(tmp_path: Path) -> None:
    volume = _read_only_volume(tmp_path / "volume")
    r = medpipe("--config", str(_config(tmp_path, volume)), "dev", "init",
                env={"MEDPIPE_HOME": str(volume / "medpipe")}, prefix=AS_OTHER_UID)
    uid = 10001 if AS_OTHER_UID else os.getuid()
    assert r.returncode == 1, r.stdout + r.stderr
    assert "permission denied" in r.stderr and f"runs as uid {uid}" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


# -- a uid with no passwd entry (containers run arbitrary uids) -------------------------------
def test_a_uid_without_a_passwd_entry_still_releases(sample: dict[str, Path],
                                                     tmp_path: Path) -> None:
    """``requested_by`` falls back to ``uid:N``: the release gets as far as Temporal (exit 3)."""
    if not AS_OTHER_UID:
        pytest.skip("needs root to run as a uid without a passwd entry")
    env = {k: v for k, v in os.environ.items()
           if k not in ("USER", "LOGNAME", "LNAME", "USERNAME")}
    r = subprocess.run([*AS_OTHER_UID, sys.executable, "-m", "medpipe", "--address",
                        f"127.0.0.1:{free_port()}", "release", "--model", str(sample["model"]),
                        "--data", str(sample["dataset"])], capture_output=True, text=True,
                       timeout=120, env={**env, "MEDPIPE_HOME": str(tmp_path / "home")})
    assert r.returncode == 3, r.stdout + r.stderr
    assert "cannot reach Temporal" in r.stderr and "Traceback" not in r.stderr


def test_current_user_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    import getpass

    from medpipe.workers.who import current_user

    def no_entry() -> str:
        raise OSError("No username set in the environment")

    monkeypatch.setattr(getpass, "getuser", no_entry)
    monkeypatch.setenv("USER", "on-call")
    assert current_user() == "on-call"
    monkeypatch.delenv("USER")
    monkeypatch.delenv("LOGNAME", raising=False)
    assert current_user() == f"uid:{os.getuid()}"
