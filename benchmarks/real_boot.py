"""Real boot figures: create-to-guest-marker for the test VM through LibvirtDriver
(image cache, overlay, resize, domain XML, define, create) against `virsh create`
of the same domain XML on a ready overlay, in the same run, alternating.

    python benchmarks/real_boot.py [--runs 3]

The marker is the guest's `POCKETSTACK-TESTVM-UP ip=...` line on the serial
console, after its DHCP on a throwaway bridge. The driver's first spawn
downloads the image into its cache (cold); the rest find it there (warm).
One guest at a time; each is destroyed before the next starts. Needs root.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from pocketstack import config as configuration
from pocketstack import testimage
from pocketstack.compute.virt.driver import GuestSpec, Nic
from pocketstack.compute.virt.libvirt import daemon, domain
from pocketstack.compute.virt.libvirt.driver import LibvirtDriver
from pocketstack.testing.guestnet import GuestNetwork

URI = "qemu:///system"
TIMEOUT = 180.0


def _has_marker(log: Path) -> bool:
    return log.exists() and testimage.MARKER.encode() in log.read_bytes()


async def _wait_marker(log: Path, began: float) -> float:
    while time.monotonic() - began < TIMEOUT:
        if await asyncio.to_thread(_has_marker, log):
            return time.monotonic() - began
        await asyncio.sleep(0.05)  # noqa: ASYNC110 - polling a file qemu writes
    raise TimeoutError(f"no marker in {log}")


async def _run(*argv: str, check: bool = True) -> None:
    await asyncio.to_thread(subprocess.run, argv, check=check, capture_output=True)


async def driver_boot(driver: LibvirtDriver, image: dict, data: bytes, bridge: str) -> float:
    async def stream():
        yield data

    iid = str(uuid.uuid4())
    spec = GuestSpec(instance_id=iid, name="bench", hostname="bench", vcpus=1, memory_mb=128,
                     root_gb=1, image=image, image_data=stream,
                     nics=[Nic(str(uuid.uuid4()), "fa:16:3e:00:be:01", "net", [], 1500,
                               {"bridge_name": bridge})])
    began = time.monotonic()
    try:
        await driver.spawn(spec)
        return await _wait_marker(driver.instances_path / iid / "console.log", began)
    finally:
        await driver.destroy(iid)


async def virsh_boot(test_image: testimage.TestImage, virt_type: str, bridge: str,
                     workdir: Path) -> float:
    iid = str(uuid.uuid4())
    overlay, log = workdir / f"{iid}.qcow2", workdir / f"{iid}.log"
    await _run("qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b",
               str(test_image.qcow2), str(overlay), "1G")
    xml = workdir / f"{iid}.xml"
    xml.write_text(domain.to_xml(domain.DomainConfig(
        uuid=iid, name=domain.domain_name(iid), virt_type=virt_type, vcpus=1, memory_mb=128,
        console_log=str(log), disks=[domain.DiskConfig(str(overlay), "vda")],
        nics=[domain.NicConfig("fa:16:3e:00:be:02", str(uuid.uuid4()), bridge)])))
    began = time.monotonic()
    try:
        await _run("virsh", "-c", URI, "create", str(xml))
        return await _wait_marker(log, began)
    finally:
        await _run("virsh", "-c", URI, "destroy", iid, check=False)


async def main(runs: int) -> None:
    cfg = configuration.load()
    test_image = testimage.ensure_built(cfg.cache_dir)
    lease = daemon.ensure_running()
    net = GuestNetwork.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            data = test_image.qcow2.read_bytes()
            image = {"id": str(uuid.uuid4()), "disk_format": "qcow2",
                     "checksum": hashlib.md5(data).hexdigest()}
            driver = LibvirtDriver("bench", uri=URI, instances_path=work / "instances",
                                   cache_dir=cfg.cache_dir)
            await driver.ready()
            print(f"virt_type {driver.virt_type}; {runs} runs each, alternating")
            cold = await driver_boot(driver, image, data, net.bridge)
            drv, vsh = [], []
            for _ in range(runs):
                vsh.append(await virsh_boot(test_image, driver.virt_type, net.bridge, work))
                drv.append(await driver_boot(driver, image, data, net.bridge))
            await driver.close()
    finally:
        net.stop()
        if lease:
            lease.stop()
    d, v = statistics.median(drv), statistics.median(vsh)
    print(f"driver, cold image cache: {cold * 1000:8.0f} ms")
    print(f"driver, warm (median):    {d * 1000:8.0f} ms   runs: "
          + ", ".join(f"{x * 1000:.0f}" for x in drv))
    print(f"virsh create (median):    {v * 1000:8.0f} ms   runs: "
          + ", ".join(f"{x * 1000:.0f}" for x in vsh))
    print(f"driver / virsh:           {d / v:8.2f}   (driver overhead {1000 * (d - v):.0f} ms)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    asyncio.run(main(parser.parse_args().runs))
