"""Block storage figures, file backend (qcow2 through qemu-img):

1. volumes created to `available` per second, 1 GiB each, at concurrency 1
   and 16 (each client creates a volume, polls until available, repeats);
2. creating a 1 GiB volume from a 1 GiB raw image (through the API, until
   `available`) against a plain `qemu-img convert -f raw -O qcow2` of the
   same file in the same run, as a ratio (aim: within 1.2x). By default the
   image service shows `direct_url` (image.show_image_direct_url) and the
   volume manager converts the image file in place, as Cinder does with
   Glance's file store; --download measures the path through the image API.

Starts its own `pocketstack up` on a free port with a throwaway state
directory in --dir (same filesystem for both sides of the ratio), and
removes every file it made at the end.

    python benchmarks/volumes.py [--volumes 32] [--dir /var/tmp]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]
GiB = 1 << 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_cloud(state: Path, direct_url: bool) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update(POCKETSTACK_IDENTITY_BCRYPT_ROUNDS="4", POCKETSTACK_LOG_LEVEL="warning",
               OS_CLIENT_CONFIG_FILE=str(state / "clouds.yaml"),
               POCKETSTACK_IMAGE_SHOW_IMAGE_DIRECT_URL=str(direct_url).lower(),
               PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]))
    log = open(state / "log", "wb")  # noqa: SIM115 - the server's, closed with it
    proc = subprocess.Popen([sys.executable, "-m", "pocketstack.cli.main", "up", "--port",
                             str(port), "--state-dir", str(state)], env=env,
                            stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        if (state / "clouds.yaml").exists():
            try:
                if httpx.get(base + "/volume/", timeout=2).status_code == 300:
                    return proc, base
            except httpx.HTTPError:
                pass
        if proc.poll() is not None:
            sys.exit(f"pocketstack up exited:\n{(state / 'log').read_text()}")
        time.sleep(0.1)
    proc.terminate()
    sys.exit("pocketstack up did not start")


def token(base: str, state: Path, cloud: str) -> str:
    auth = yaml.safe_load((state / "clouds.yaml").read_text())["clouds"][cloud]["auth"]
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": auth["username"], "password": auth["password"], "domain": {"id": "default"}}}},
        "scope": {"project": {"name": auth["project_name"], "domain": {"id": "default"}}}}}
    r = httpx.post(base + "/identity/v3/auth/tokens", json=body)
    r.raise_for_status()
    return r.headers["X-Subject-Token"]


async def create_and_wait(http: httpx.AsyncClient, body: dict) -> float:
    began = time.monotonic()
    r = await http.post("/volume/v3/volumes", json={"volume": body})
    assert r.status_code == 202, r.text
    vid = r.json()["volume"]["id"]
    while True:
        status = (await http.get(f"/volume/v3/volumes/{vid}")).json()["volume"]["status"]
        if status == "available":
            return time.monotonic() - began
        assert status == "creating", status
        await asyncio.sleep(0.005)


async def rate(http: httpx.AsyncClient, total: int, concurrency: int) -> float:
    left = total

    async def client() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            await create_and_wait(http, {"size": 1})

    began = time.monotonic()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return total / (time.monotonic() - began)


async def delete_all(http: httpx.AsyncClient) -> None:
    vols = (await http.get("/volume/v3/volumes")).json()["volumes"]
    await asyncio.gather(*(http.delete(f"/volume/v3/volumes/{v['id']}") for v in vols))
    while (await http.get("/volume/v3/volumes")).json()["volumes"]:  # noqa: ASYNC110
        await asyncio.sleep(0.05)


def make_image(path: Path) -> None:
    """1 GiB of non-zero data (a MiB of random bytes, repeated, each MiB tagged)."""
    block = bytearray(os.urandom(1 << 20))
    with open(path, "wb") as f:
        for i in range(1024):
            block[:8] = i.to_bytes(8, "little")
            f.write(block)


def timed_convert(src: Path, dst: Path) -> float:
    began = time.monotonic()
    subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(src), str(dst)],
                   check=True)
    elapsed = time.monotonic() - began
    dst.unlink()
    return elapsed


async def upload_image(http: httpx.AsyncClient, path: Path) -> str:
    r = await http.post("/image/v2/images", json={"name": "bench-1g", "disk_format": "raw",
                                                  "container_format": "bare"})
    assert r.status_code == 201, r.text
    image_id = r.json()["id"]

    async def chunks():  # noqa: ANN202
        with open(path, "rb") as f:  # noqa: ASYNC230 - a benchmark client
            while block := f.read(8 << 20):
                yield block

    r = await http.put(f"/image/v2/images/{image_id}/file", content=chunks(),
                       headers={"Content-Type": "application/octet-stream"}, timeout=600)
    assert r.status_code == 204, r.text
    return image_id


async def main(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="pocketstack-bench-", dir=args.dir))
    proc, base = start_cloud(work, not args.download)
    try:
        admin = httpx.AsyncClient(base_url=base, timeout=120,
                                  headers={"X-Auth-Token": token(base, work, "pocketstack-admin")})
        demo_token = token(base, work, "pocketstack")
        demo = httpx.AsyncClient(base_url=base, timeout=120,
                                 limits=httpx.Limits(max_connections=32),
                                 headers={"X-Auth-Token": demo_token})
        project = (await admin.get("/identity/v3/projects", params={"name": "demo"})
                   ).json()["projects"][0]["id"]
        await admin.put(f"/volume/v3/os-quota-sets/{project}",
                        json={"quota_set": {"volumes": -1, "gigabytes": -1}})
        for concurrency in () if args.skip_rate else (1, 16):
            per_second = await rate(demo, args.volumes, concurrency)
            print(f"create 1 GiB volume -> available, concurrency {concurrency:2d}: "
                  f"{per_second:.1f} volumes/s")
            await delete_all(demo)
        if not args.skip_image:
            await from_image(demo, work, args.download)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        shutil.rmtree(work, ignore_errors=True)


async def from_image(demo: httpx.AsyncClient, work: Path, download: bool) -> None:
    source = work / "image.raw"
    make_image(source)
    image_id = await upload_image(demo, source)
    image = (await demo.get(f"/image/v2/images/{image_id}")).json()
    if not download:  # the very file the volume manager converts
        source.unlink()
        source = Path(image["direct_url"].removeprefix("file://"))
    runs = []
    for i in range(6):  # alternate which goes first: the first warms the page cache
        if i % 2:
            via_api = await create_and_wait(demo, {"size": 1, "imageRef": image_id})
        plain = timed_convert(source, work / "plain.qcow2")
        if not i % 2:
            via_api = await create_and_wait(demo, {"size": 1, "imageRef": image_id})
        runs.append((plain, via_api))
        await delete_all(demo)
    if download:
        source.unlink()
    await demo.delete(f"/image/v2/images/{image_id}")
    plain, via_api = (min(x) for x in zip(*runs, strict=True))
    ratios = sorted(api / qemu for qemu, api in runs)
    how = "downloaded" if download else "read in place (direct_url)"
    print(f"1 GiB raw image ({how}) -> 1 GiB qcow2 volume: qemu-img convert {plain:.2f}s, "
          f"volume create --image {via_api:.2f}s (best of 6 each, alternating order): "
          f"ratio of bests {via_api / plain:.2f}x, median of paired ratios "
          f"{(ratios[2] + ratios[3]) / 2:.2f}x")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--volumes", type=int, default=32, help="volumes per concurrency level")
    p.add_argument("--dir", default=None, help="where the state directory goes")
    p.add_argument("--skip-image", action="store_true", help="skip part 2")
    p.add_argument("--skip-rate", action="store_true", help="skip part 1")
    p.add_argument("--download", action="store_true",
                   help="image data downloaded through the image API (default: the image "
                   "service shows direct_url and the volume manager reads the file in place)")
    asyncio.run(main(p.parse_args()))
