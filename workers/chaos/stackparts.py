"""What a non-production local stack runs in addition, for chaos exercises.

- ``emulator-s3-proxy``: a cuttable TCP proxy (``workers/chaos/proxy.py``) in
  front of the S3 emulator; the AWS profile's store endpoint is the proxy, so
  an exercise can partition the workers from that store (SIGUSR1/SIGUSR2);
- ``chaos-runner``: the worker of ``ChaosExerciseWorkflow`` (scheduled
  exercises), on the host whose processes it may signal.

A production fleet gets neither (nothing to cut, nothing that kills).
"""

from __future__ import annotations

import sys

from medpipe.contracts.placement import Cloud, Environment, WorkerProfile
from medpipe.workers.emulators import LOOPBACK, EmulatorPorts, emulated_bucket_uri, endpoint

PROXY_CHILD = "emulator-s3-proxy"
RUNNER_CHILD = "chaos-runner"


def proxy_port(ports: EmulatorPorts) -> int:
    """The proxy's port: right after the three emulators'."""
    return ports.azure + 1


def proxied_profiles(profiles: tuple[WorkerProfile, ...], ports: EmulatorPorts
                     ) -> tuple[WorkerProfile, ...]:
    """The emulated AWS profile's store reached through the proxy; the others unchanged."""
    from medpipe.workers.emulators import bucket_name

    url = endpoint(proxy_port(ports))
    return tuple(p.model_copy(update={"store_uri": emulated_bucket_uri("s3", bucket_name(p), url)})
                 if p.cloud is Cloud.AWS and "endpoint=" in p.store_uri else p
                 for p in profiles)


def chaos_children(environment: Environment, emulator_base_port: int | None
                   ) -> list[tuple[str, list[str]]]:
    """``(name, command)`` of the extra children of a non-production stack
    (``emulator_base_port``: the emulated stack's, None on local storage)."""
    if environment is not Environment.NON_PRODUCTION:
        return []
    out = []
    if emulator_base_port is not None:
        ports = EmulatorPorts.from_base(emulator_base_port)
        out.append((PROXY_CHILD, [sys.executable, "-m", "medpipe", "chaos", "proxy",
                                  "--listen", f"{LOOPBACK}:{proxy_port(ports)}",
                                  "--upstream", f"{LOOPBACK}:{ports.s3}"]))
    out.append((RUNNER_CHILD, [sys.executable, "-m", "medpipe", "chaos", "worker"]))
    return out
