"""Identity token throughput: issue (password method) and validation per second,
latency p50/p99 and the server's CPU per request, at concurrency 1 and 16.

Starts its own `pocketstack up` (bcrypt cost 12 unless --bcrypt-rounds) on a
free port with a throwaway state directory, drives it with httpx (keep-alive
connections) from --clients processes, reads the server's CPU time from
/proc/<pid>/stat, and measures a bare bcrypt.checkpw at the same cost in the
same run so that the issue cost beyond bcrypt can be reported. For scale, the
same load is also run against a bare uvicorn app (same HTTP stack and event
loop, a fixed body of a validation's size): the floor any Python service
on this machine pays per request.

    python benchmarks/identity_tokens.py [--seconds 5] [--clients 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bcrypt
import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def start_cloud(state: Path, rounds: int) -> tuple[subprocess.Popen, str, dict]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update(POCKETSTACK_IDENTITY_BCRYPT_ROUNDS=str(rounds), POCKETSTACK_LOG_LEVEL="warning",
               OS_CLIENT_CONFIG_FILE=str(state / "clouds.yaml"),
               PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-m", "pocketstack.cli.main", "up", "--port",
                             str(port), "--state-dir", str(state)], env=env,
                            stdout=subprocess.DEVNULL, stderr=open(state / "log", "wb"))
    url = f"http://127.0.0.1:{port}/identity/v3"
    for _ in range(600):
        try:
            if (state / "clouds.yaml").exists() and httpx.get(url).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise SystemExit((state / "log").read_text())
        time.sleep(0.1)
    clouds = yaml.safe_load((state / "clouds.yaml").read_text())["clouds"]
    return proc, url, clouds


def auth_body(cloud: dict) -> dict:
    a = cloud["auth"]
    return {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": a["username"], "password": a["password"], "domain": {"id": "default"}}}},
        "scope": {"project": {"name": a["project_name"], "domain": {"id": "default"}}}}}


# -- load generation (runs in client processes) -------------------------------------

async def _worker(http: httpx.AsyncClient, job: dict, deadline: float, count: int | None,
                  latencies: list[float], errors: list[int]) -> None:
    i = 0
    while (count is None and time.monotonic() < deadline) or (count is not None and i < count):
        began = time.perf_counter()
        if job["kind"] == "floor":
            r = await http.get(job["url"])
            ok = r.status_code == 200
        elif job["kind"] == "issue":
            r = await http.post(job["url"] + "/auth/tokens", json=job["body"])
            ok = r.status_code == 201
        else:
            subject = job["subjects"][i % len(job["subjects"])]
            r = await http.get(job["url"] + "/auth/tokens",
                               headers={"X-Auth-Token": job["token"], "X-Subject-Token": subject})
            ok = r.status_code == 200
        latencies.append(time.perf_counter() - began)
        if not ok:
            errors.append(r.status_code)
        i += 1


async def _drive(job: dict, concurrency: int, seconds: float, count: int | None) -> tuple:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    latencies: list[float] = []
    errors: list[int] = []
    async with httpx.AsyncClient(limits=limits, timeout=120) as http:
        deadline = time.monotonic() + seconds
        per = None if count is None else max(1, count // concurrency)
        await asyncio.gather(*(_worker(http, job, deadline, per, latencies, errors)
                               for _ in range(concurrency)))
    return latencies, errors


def _client(args: tuple) -> tuple:
    return asyncio.run(_drive(*args))


def run_phase(pool, pid: int, job: dict, concurrency: int, clients: int,  # noqa: ANN001
              seconds: float, count: int | None) -> dict:
    clients = min(clients, concurrency)
    per_client = [concurrency // clients + (1 if i < concurrency % clients else 0)
                  for i in range(clients)]
    cpu0, t0 = cpu_seconds(pid), time.monotonic()
    results = pool.map(_client, [(job, c, seconds, None if count is None else
                                  max(1, count * c // concurrency)) for c in per_client])
    elapsed, cpu = time.monotonic() - t0, cpu_seconds(pid) - cpu0
    latencies = sorted(x for lat, _ in results for x in lat)
    errors = [e for _, errs in results for e in errs]
    n = len(latencies)
    return {"requests": n, "errors": len(errors), "per_second": n / elapsed,
            "p50_ms": 1000 * latencies[n // 2],
            "p99_ms": 1000 * latencies[min(n - 1, int(n * 0.99))],
            "cpu_ms": 1000 * cpu / n}


def bare_bcrypt_ms(rounds: int, samples: int = 5) -> float:
    hashed = bcrypt.hashpw(b"secret", bcrypt.gensalt(rounds))
    t0 = time.process_time()
    for _ in range(samples):
        bcrypt.checkpw(b"secret", hashed)
    return 1000 * (time.process_time() - t0) / samples


def serve_floor(port: int, size: int) -> None:
    """A bare ASGI app on uvicorn (httptools, uvloop) answering a fixed body."""
    import uvicorn

    body = b"x" * size

    async def app(scope, receive, send):  # noqa: ANN001, ANN202
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})

    uvicorn.run(app, host="127.0.0.1", port=port, http="httptools", loop="uvloop",
                log_level="warning", timeout_keep_alive=120)


def start_floor(size: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve-floor", str(port), str(size)])
    url = f"http://127.0.0.1:{port}/"
    for _ in range(300):
        try:
            httpx.get(url)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    return proc, url


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=5.0, help="per validation phase")
    p.add_argument("--issues", type=int, default=32, help="tokens issued per issue phase")
    p.add_argument("--clients", type=int, default=4, help="client processes at concurrency 16")
    p.add_argument("--bcrypt-rounds", type=int, default=12)
    p.add_argument("--serve-floor", nargs=2, type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.serve_floor:
        return serve_floor(*args.serve_floor)
    with tempfile.TemporaryDirectory(prefix="pocketstack-bench-") as tmp:
        proc, url, clouds = start_cloud(Path(tmp), args.bcrypt_rounds)
        try:
            report(proc.pid, url, clouds, args)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)


def report(pid: int, url: str, clouds: dict, args: argparse.Namespace) -> None:
    demo, admin = auth_body(clouds["pocketstack"]), auth_body(clouds["pocketstack-admin"])

    def token(body: dict) -> str:
        r = httpx.post(url + "/auth/tokens", json=body)
        assert r.status_code == 201, r.text
        return r.headers["X-Subject-Token"]

    admin_token = token(admin)
    subjects = [token(demo) for _ in range(16)]
    issue = {"kind": "issue", "url": url, "body": demo}
    validate = {"kind": "validate", "url": url, "token": admin_token, "subjects": subjects}
    rows = []
    with multiprocessing.get_context("spawn").Pool(args.clients) as pool:
        run_phase(pool, pid, validate, 16, args.clients, 1.0, None)  # warm up
        for c in (1, 16):
            rows.append(("validate", c, run_phase(pool, pid, validate, c, args.clients,
                                                  args.seconds, None)))
        for c in (1, 16):
            count = args.issues if c == 16 else max(4, args.issues // 4)
            rows.append(("issue", c, run_phase(pool, pid, issue, c, args.clients, 0, count)))
        size = len(httpx.get(url + "/auth/tokens", headers={
            "X-Auth-Token": admin_token, "X-Subject-Token": subjects[0]}).content)
        floor_proc, floor_url = start_floor(size)
        try:
            floor = {"kind": "floor", "url": floor_url}
            run_phase(pool, floor_proc.pid, floor, 16, args.clients, 1.0, None)
            rows.append(("bare app", 16, run_phase(pool, floor_proc.pid, floor, 16,
                                                   args.clients, args.seconds, None)))
        finally:
            floor_proc.terminate()
            floor_proc.wait(10)
    bare = bare_bcrypt_ms(args.bcrypt_rounds)
    print(f"{'operation':<10} {'conc':>4} {'requests':>8} {'errors':>6} {'req/s':>8} "
          f"{'p50 ms':>8} {'p99 ms':>8} {'server CPU ms/req':>18}")
    for name, c, r in rows:
        print(f"{name:<10} {c:>4} {r['requests']:>8} {r['errors']:>6} {r['per_second']:>8.0f} "
              f"{r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} {r['cpu_ms']:>18.3f}")
    issue_cpu = min(r["cpu_ms"] for name, _, r in rows if name == "issue")
    print(f"\nbare bcrypt.checkpw at cost {args.bcrypt_rounds}: {bare:.1f} ms CPU; "
          f"token issue beyond bcrypt: {issue_cpu - bare:.1f} ms CPU per token")
    print(json.dumps({"rows": [{"op": n, "concurrency": c, **r} for n, c, r in rows],
                      "bare_bcrypt_ms": bare}), file=sys.stderr)


if __name__ == "__main__":
    main()
