"""Many fake hosts in one all-in-one: start time, idle CPU and memory.

Starts `pocketstack up --fake-hosts N` on a free port with a throwaway state
directory and waits until it answers and every host has reported (N resource
providers with inventory in placement, N enabled and up nova-compute services
and N hypervisors in compute). Then it measures the process idle for --idle
seconds (CPU % of one core, from /proc/<pid>/stat; RSS), stops it, starts it
again on the same state (providers and records exist: the restart path) and
measures that start too.

    python benchmarks/fake_hosts.py [--hosts 10000] [--idle 60]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.boot import cpu_seconds, memory_mb, start_cloud, token  # noqa: E402


def start(state: Path, hosts: int) -> tuple[subprocess.Popen, str, float]:
    """The process, its base URL, and the seconds until it answered."""
    began = time.monotonic()
    proc, base, _ = start_cloud(state, hosts, timeout=None)
    return proc, base, time.monotonic() - began


def reported(base: str, state: Path) -> dict[str, int]:
    """How many hosts each service knows about."""
    clouds = yaml.safe_load((state / "clouds.yaml").read_text())["clouds"]
    tok, _ = token(base, clouds["pocketstack-admin"])
    h = {"X-Auth-Token": tok, "OpenStack-API-Version": "placement 1.39"}
    with httpx.Client(base_url=base, headers=h, timeout=120) as c:
        rps = c.get("/placement/resource_providers").json()["resource_providers"]
        with_inventory = c.get("/placement/resource_providers",
                               params={"resources": "VCPU:1"}).json()["resource_providers"]
        services = c.get("/compute/v2.1/os-services",
                         params={"binary": "nova-compute"}).json()["services"]
        hypervisors = c.get("/compute/v2.1/os-hypervisors").json()["hypervisors"]
    return {"providers": len(rps), "with inventory": len(with_inventory),
            "services up": sum(s["state"] == "up" for s in services),
            "hypervisors": len(hypervisors)}


def idle(proc: subprocess.Popen, seconds: float) -> tuple[float, float]:
    """(CPU % of one core, RSS MiB) over `seconds` of doing nothing."""
    cpu = cpu_seconds(proc.pid)
    time.sleep(seconds)
    return (cpu_seconds(proc.pid) - cpu) * 100 / seconds, memory_mb(proc.pid)[0]


def stop(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGTERM)
    proc.wait(60)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hosts", type=int, default=10000)
    ap.add_argument("--idle", type=float, default=60.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp)
        for label in ("first start", "restart"):
            proc, base, took = start(state, args.hosts)
            try:
                cpu_before = cpu_seconds(proc.pid)
                print(f"{label}: up with {args.hosts} fake hosts in {took:.1f} s "
                      f"({cpu_before:.1f} CPU s); reported: {reported(base, state)}",
                      flush=True)
                pct, rss = idle(proc, args.idle)
                print(f"{label}: idle {pct:.2f} % of a core over {args.idle:.0f} s, "
                      f"RSS {rss:.0f} MiB", flush=True)
            finally:
                stop(proc)


if __name__ == "__main__":
    main()
