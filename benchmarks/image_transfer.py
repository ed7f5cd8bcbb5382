"""Image upload and download through the live API, against the disk's floor.

For each size: starts a fresh `pocketstack up` (state dir next to the test
file, so both are on the same disk), makes a file of that size, measures the
floor (`sha512sum FILE` plus `cp FILE COPY`, the work an upload must do at
least), then uploads the file (PUT /v2/images/ID/file, streamed) and
downloads it (GET .../file into a file), and reads the server's peak RSS
(VmHWM) after each. Prints MB/s and the ratio to the floor; removes every
file it made.

    python benchmarks/image_transfer.py --sizes 256,1024 [--dir /var/tmp]
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml

MiB = 1 << 20
CHUNK = 8 * MiB


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_file(path: Path, size: int) -> None:
    block = os.urandom(16 * MiB)
    with open(path, "wb") as f:
        left = size
        while left > 0:
            f.write(block[:min(left, len(block))])
            left -= len(block)


def timed(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of a command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.monotonic() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def vm(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    return 0


class Server:
    def __init__(self, state: Path, fsync: bool):
        self.state, self.port = state, free_port()
        state.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, OS_CLIENT_CONFIG_FILE=str(state / "clouds.yaml"),
                   POCKETSTACK_IDENTITY_BCRYPT_ROUNDS="4", POCKETSTACK_LOG_LEVEL="warning",
                   POCKETSTACK_IMAGE_FSYNC=str(fsync).lower())
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pocketstack.cli.main", "up", "--port", str(self.port),
             "--state-dir", str(state)], env=env, stdout=subprocess.DEVNULL,
            stderr=open(state / "log", "wb"))
        self.base = f"http://127.0.0.1:{self.port}"
        for _ in range(600):
            if (state / "clouds.yaml").exists():
                try:
                    if httpx.get(self.base + "/image/versions").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
            time.sleep(0.1)
        self.token = self._login()

    def _login(self) -> str:
        auth = yaml.safe_load((self.state / "clouds.yaml").read_text())["clouds"][
            "pocketstack"]["auth"]
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": auth["username"], "password": auth["password"],
            "domain": {"id": "default"}}}},
            "scope": {"project": {"name": auth["project_name"], "domain": {"id": "default"}}}}}
        r = httpx.post(self.base + "/identity/v3/auth/tokens", json=body)
        return r.headers["X-Subject-Token"]

    def stop(self) -> None:
        os.kill(self.proc.pid, signal.SIGTERM)
        self.proc.wait(30)


def chunks(path: Path):
    with open(path, "rb", buffering=0) as f:
        while chunk := f.read(CHUNK):
            yield chunk


def floor(source: Path, copy: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of `sha512sum SOURCE` plus `cp SOURCE COPY`."""
    hashing, copying = timed(["sha512sum", str(source)]), timed(["cp", str(source), str(copy)])
    copy.unlink()
    return hashing[0] + copying[0], hashing[1] + copying[1]


def transfer(http: httpx.Client, pid: int, source: Path, back: Path) -> list[float]:
    """[upload wall, upload CPU, download wall, download CPU] of one image."""
    size = source.stat().st_size
    image = http.post("/v2/images", json={
        "name": "bench", "disk_format": "raw", "container_format": "bare"}).json()
    began, cpu0 = time.monotonic(), cpu(pid)
    r = http.put(f"/v2/images/{image['id']}/file", content=chunks(source),
                 headers={"Content-Type": "application/octet-stream",
                          "Content-Length": str(size)})
    up = [time.monotonic() - began, cpu(pid) - cpu0]
    assert r.status_code == 204, r.text
    began, cpu0 = time.monotonic(), cpu(pid)
    with http.stream("GET", f"/v2/images/{image['id']}/file") as resp, open(back, "wb") as out:
        for chunk in resp.iter_raw(CHUNK):
            out.write(chunk)
    down = [time.monotonic() - began, cpu(pid) - cpu0]
    assert back.stat().st_size == size
    back.unlink()
    http.delete(f"/v2/images/{image['id']}")
    return up + down


def run(size_mib: int, workdir: Path, fsync: bool, repeat: int) -> dict[str, float]:
    """Best of `repeat` rounds (floor, upload, download) on one server."""
    size = size_mib * MiB
    with tempfile.TemporaryDirectory(dir=workdir, prefix="image-bench-") as tmp:
        tmp = Path(tmp)
        source = tmp / "source.img"
        make_file(source, size)
        subprocess.run(["cat", str(source)], stdout=subprocess.DEVNULL, check=True)  # warm
        server = Server(tmp / "state", fsync)
        try:
            pid = server.proc.pid
            rss_idle = vm(pid, "VmRSS")
            floors, transfers = [], []
            with httpx.Client(base_url=server.base + "/image",
                              headers={"X-Auth-Token": server.token}, timeout=None) as http:
                for _ in range(repeat):
                    floors.append(floor(source, tmp / "copy.img"))
                    transfers.append(transfer(http, pid, source, tmp / "back.img"))
            hwm = vm(pid, "VmHWM")
        finally:
            server.stop()
    best = [min(t[i] for t in transfers) for i in range(4)]
    per_gib = (1 << 30) / size
    mbs = lambda t: size / t / 1e6  # noqa: E731
    return {"size_mib": size_mib, "floor": mbs(min(f[0] for f in floors)),
            "upload": mbs(best[0]), "download": mbs(best[2]), "rss_idle": rss_idle / MiB,
            "hwm": hwm / MiB, "floor_cpu": min(f[1] for f in floors) * per_gib,
            "up_cpu": best[1] * per_gib, "down_cpu": best[3] * per_gib}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="256,1024", help="MiB, comma-separated")
    p.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()),
                   help="where the files and the state dir go (one disk)")
    p.add_argument("--repeat", type=int, default=3, help="rounds per size; the best is kept")
    p.add_argument("--no-fsync", action="store_true",
                   help="let the server skip fsync before an image becomes active")
    args = p.parse_args()
    print(f"{'size':>6} {'floor MB/s':>10} {'upload':>14} {'download':>14} "
          f"{'RSS idle':>9} {'RSS peak':>9}")
    for size in (int(s) for s in args.sizes.split(",")):
        r = run(size, args.dir, not args.no_fsync, args.repeat)
        print(f"{size:>4}Mi {r['floor']:>10.0f} "
              f"{r['upload']:>6.0f} ({r['upload'] / r['floor']:.2f}x) "
              f"{r['download']:>6.0f} ({r['download'] / r['floor']:.2f}x) "
              f"{r['rss_idle']:>7.0f}Mi {r['hwm']:>7.0f}Mi"
              f"   CPU s/GiB: floor {r['floor_cpu']:.2f}, server upload {r['up_cpu']:.2f}, "
              f"download {r['down_cpu']:.2f}", flush=True)


if __name__ == "__main__":
    main()
