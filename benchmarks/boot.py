"""Server boot and delete throughput on the fake driver, all-in-one.

Starts its own `pocketstack up --fake-hosts N` on a free port with a throwaway
state directory, lifts the demo project's quotas, makes a /22 network, then
creates --servers servers through the REST API from --concurrency workers and
waits for all of them to be ACTIVE; then deletes them all the same way.
Reports: servers ACTIVE per second, create-to-ACTIVE latency p50/p99 (from
the stored trace spans: step 3's start to the end of step 28), deletes per
second, the server process's CPU seconds per server (boot + delete, from
/proc/<pid>/stat) and its memory (RSS, peak RSS).

    python benchmarks/boot.py [--servers 200] [--concurrency 10] [--fake-hosts 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]
TICKS = os.sysconf("SC_CLK_TCK")
FAKE_CIRROS = "6e1d5f2a-3c4b-4f5e-9a8b-0c1d2e3f4a5b"  # compute's fake image service


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def memory_mb(pid: int) -> tuple[float, float]:
    """(RSS, peak RSS) in MiB."""
    status = dict(line.split(":", 1) for line in
                  Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return (int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024)


def start_cloud(state: Path, hosts: int, timeout: float | None = 60.0
                ) -> tuple[subprocess.Popen, str, dict]:
    """`pocketstack up --fake-hosts HOSTS` on STATE (its log appended to STATE/log),
    once its compute API answers (no time limit with timeout None)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update(POCKETSTACK_IDENTITY_BCRYPT_ROUNDS="4", POCKETSTACK_LOG_LEVEL="warning",
               OS_CLIENT_CONFIG_FILE=str(state / "clouds.yaml"),
               PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-m", "pocketstack.cli.main", "up", "--port",
                             str(port), "--state-dir", str(state), "--fake-hosts", str(hosts)],
                            env=env, stdout=subprocess.DEVNULL, stderr=open(state / "log", "ab"))
    base = f"http://127.0.0.1:{port}"
    deadline = None if timeout is None else time.monotonic() + timeout
    while deadline is None or time.monotonic() < deadline:
        try:
            if (state / "clouds.yaml").exists() and httpx.get(base + "/compute/",
                                                              timeout=5).is_success:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise SystemExit((state / "log").read_text()[-3000:])
        time.sleep(0.1)
    return proc, base, yaml.safe_load((state / "clouds.yaml").read_text())["clouds"]


def token(base: str, cloud: dict) -> tuple[str, dict]:
    a = cloud["auth"]
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": a["username"], "password": a["password"], "domain": {"id": "default"}}}},
        "scope": {"project": {"name": a["project_name"], "domain": {"id": "default"}}}}}
    r = httpx.post(base + "/identity/v3/auth/tokens", json=body)
    return r.headers["X-Subject-Token"], r.json()["token"]


def prepare(base: str, clouds: dict) -> tuple[str, str, str]:
    """(demo token, image id, network id) with the demo project's quotas lifted."""
    admin, _ = token(base, clouds["pocketstack-admin"])
    demo, body = token(base, clouds["pocketstack"])
    project = body["project"]["id"]
    h = {"X-Auth-Token": admin}
    httpx.put(f"{base}/compute/v2.1/os-quota-sets/{project}", headers=h, json={
        "quota_set": {"instances": -1, "cores": -1, "ram": -1}}).raise_for_status()
    catalog = {s["type"]: s for s in body["catalog"]}
    image = FAKE_CIRROS
    if "image" in catalog:
        found = httpx.get(f"{base}/image/v2/images",
                          headers={"X-Auth-Token": demo}).json()["images"]
        image = next(i["id"] for i in found if i["name"].startswith("cirros"))
    net = "none"
    if "network" in catalog:
        h = {"X-Auth-Token": demo}
        n = httpx.post(f"{base}/networking/v2.0/networks", headers=h,
                       json={"network": {"name": "bench"}}).json()["network"]
        httpx.post(f"{base}/networking/v2.0/subnets", headers=h, json={"subnet": {
            "network_id": n["id"], "cidr": "10.100.0.0/22", "ip_version": 4}}
        ).raise_for_status()
        net = n["id"]
    return demo, image, net


async def boot_all(base: str, tok: str, image: str, net: str, n: int,
                   concurrency: int) -> tuple[float, list[str]]:
    headers = {"X-Auth-Token": tok, "OpenStack-API-Version": "compute 2.100"}
    networks = "none" if net == "none" else [{"uuid": net}]
    ids: list[str] = []
    queue = list(range(n))
    async with httpx.AsyncClient(base_url=base + "/compute/v2.1", headers=headers,
                                 timeout=120, limits=httpx.Limits(max_connections=64)) as c:
        async def worker() -> None:
            while queue:
                i = queue.pop()
                r = await c.post("/servers", json={"server": {
                    "name": f"bench-{i}", "imageRef": image, "flavorRef": "42",
                    "networks": networks}})
                r.raise_for_status()
                ids.append(r.json()["server"]["id"])

        began = time.monotonic()
        await asyncio.gather(*[worker() for _ in range(concurrency)])
        while True:
            states = await c.get("/servers/detail", params={"fields": "status"})
            statuses = [s["status"] for s in states.json()["servers"]]
            if sum(s in ("ACTIVE", "ERROR") for s in statuses) >= n:
                break
            await asyncio.sleep(0.05)
        took = time.monotonic() - began
        errors = statuses.count("ERROR")
        if errors:
            print(f"warning: {errors} servers in ERROR")
    return took, ids


async def delete_all(base: str, tok: str, ids: list[str], concurrency: int) -> float:
    headers = {"X-Auth-Token": tok}
    queue = list(ids)
    async with httpx.AsyncClient(base_url=base + "/compute/v2.1", headers=headers,
                                 timeout=120) as c:
        async def worker() -> None:
            while queue:
                (await c.delete(f"/servers/{queue.pop()}")).raise_for_status()

        began = time.monotonic()
        await asyncio.gather(*[worker() for _ in range(concurrency)])
        while True:
            if not (await c.get("/servers")).json()["servers"]:
                return time.monotonic() - began
            await asyncio.sleep(0.05)


def latencies(state: Path) -> tuple[list[float], int, dict[str, float]]:
    """Create-to-ACTIVE per server from the spans; how many had all 28 steps; the
    mean duration of each step in ms."""
    db = sqlite3.connect(state / "compute.db")
    rows = db.execute("SELECT trace_id, step, start, \"end\" FROM spans WHERE step IS NOT NULL")
    by_trace: dict[str, list[tuple[str, float, float]]] = defaultdict(list)
    for trace, step, start, end in rows:
        by_trace[trace].append((step, start, end))
    out, complete = [], 0
    per_step: dict[str, list[float]] = defaultdict(list)
    wanted = {"1-2", "3", "4-5", "6-7", "8", "9", "10", "11", "12", "13", "14-18", "19-21",
              "22-24", "25-27", "28"}
    for spans in by_trace.values():
        steps = {s for s, _, _ in spans}
        if "3" not in steps or "28" not in steps:
            continue
        complete += wanted <= steps
        for step, st, en in spans:
            per_step[step].append((en - st) * 1000)
        start = min(st for s, st, _ in spans if s == "3")
        end = max(en for s, _, en in spans if s == "28")
        out.append((end - start) * 1000)
    means = {step: statistics.mean(v) for step, v in per_step.items()}
    return sorted(out), complete, means


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--servers", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=10)
    ap.add_argument("--fake-hosts", type=int, default=10)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp)
        proc, base, clouds = start_cloud(state, args.fake_hosts)
        try:
            tok, image, net = prepare(base, clouds)
            time.sleep(1.0)  # the agents' first reports
            cpu0 = cpu_seconds(proc.pid)
            boot_s, ids = asyncio.run(boot_all(base, tok, image, net, args.servers,
                                               args.concurrency))
            cpu1 = cpu_seconds(proc.pid)
            rss_active, _ = memory_mb(proc.pid)
            delete_s = asyncio.run(delete_all(base, tok, ids, args.concurrency))
            cpu2 = cpu_seconds(proc.pid)
            rss, peak = memory_mb(proc.pid)
            time.sleep(1.0)  # spans are flushed every half second
            lat, complete, steps = latencies(state)
        finally:
            proc.terminate()
            proc.wait(30)
    n = args.servers
    print(f"{n} servers, concurrency {args.concurrency}, {args.fake_hosts} fake hosts, "
          f"image {'fake' if image == FAKE_CIRROS else 'cirros'}, network "
          f"{'none' if net == 'none' else 'a /22'}")
    print(f"boot:    {n / boot_s:7.1f} servers ACTIVE/s ({boot_s:.2f} s for all)")
    print(f"latency: create-to-ACTIVE p50 {statistics.median(lat):.0f} ms, "
          f"p99 {lat[int(len(lat) * 0.99) - 1]:.0f} ms ({len(lat)} traced, "
          f"{complete} with all 28 steps)")
    order = sorted(steps, key=lambda s: int(s.split("-")[0]))
    print("steps:   mean ms " + ", ".join(f"{s}: {steps[s]:.1f}" for s in order))
    print(f"delete:  {n / delete_s:7.1f} servers/s ({delete_s:.2f} s for all)")
    print(f"CPU:     {(cpu1 - cpu0) / n:.4f} s/server boot, {(cpu2 - cpu1) / n:.4f} s/server "
          f"delete, {(cpu2 - cpu0) / n:.4f} s/server in all")
    print(f"memory:  RSS {rss_active:.0f} MiB with {n} ACTIVE, {rss:.0f} MiB at the end, "
          f"peak {peak:.0f} MiB")


if __name__ == "__main__":
    main()
