"""Building the test image once per set of package versions, into a cache.

The cache key is the kernel, busybox-static and syslinux versions plus a hash
of the guest scripts and this recipe, so a package upgrade or a changed
script rebuilds; concurrent builders (parallel test runs) wait on a lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import shutil
import tempfile
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from pocketstack.testimage import debian, disk, initramfs

LOG = logging.getLogger(__name__)
RECIPE = 1  # bump when the build changes in a way the hashed files do not show


@dataclass(frozen=True)
class TestImage:
    __test__ = False  # not a pytest class

    directory: Path
    qcow2: Path  # the boot disk (syslinux on FAT), qcow2, compressed
    kernel: Path  # for direct kernel boot
    initrd: Path
    cmdline: str  # what syslinux passes; direct kernel boot should pass it too
    manifest: dict


def _guest_file(name: str) -> bytes:
    return resources.files("pocketstack.testimage").joinpath("guest", name).read_bytes()


def _versions(kernel_deb: Path) -> dict[str, str]:
    return {
        "kernel": kernel_deb.name,
        "busybox-static": debian.installed_version("busybox-static"),
        "syslinux": debian.installed_version("syslinux"),
        "syslinux-common": debian.installed_version("syslinux-common"),
    }


def cache_key(versions: dict[str, str]) -> str:
    h = hashlib.sha256(json.dumps(versions, sort_keys=True).encode())
    for part in (_guest_file("init.sh"), _guest_file("udhcpc.sh"),
                 disk.SYSLINUX_CFG.encode(), repr(initramfs.WANTED_MODULES).encode(),
                 str(RECIPE).encode()):
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()[:16]


def _image(directory: Path) -> TestImage:
    return TestImage(
        directory=directory,
        qcow2=directory / "testvm.qcow2",
        kernel=directory / "vmlinuz",
        initrd=directory / "initrd.img",
        cmdline=disk.CMDLINE,
        manifest=json.loads((directory / "manifest.json").read_text()),
    )


def ensure_built(cache_dir: Path) -> TestImage:
    """The test image for the current package versions, built if not cached."""
    kernel_deb = debian.kernel_deb(cache_dir)
    versions = _versions(kernel_deb)
    root = cache_dir / "testimage"
    target = root / cache_key(versions)
    if (target / "manifest.json").exists():
        return _image(target)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / "manifest.json").exists():
            _build(target, kernel_deb, versions)
    return _image(target)


def _build(target: Path, kernel_deb: Path, versions: dict[str, str]) -> None:
    began = time.monotonic()
    LOG.info("building the test image %s from %s", target.name, versions)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".build-") as tmp:
        work = Path(tmp)
        out = work / "out"
        out.mkdir()
        tree = debian.unpack(kernel_deb, work / "kernel")
        release = kernel_deb.name.split("_")[0].removeprefix("linux-image-")
        shutil.copyfile(tree / "boot" / f"vmlinuz-{release}", out / "vmlinuz")
        (out / "initrd.img").write_bytes(initramfs.build(
            debian.BUSYBOX, _guest_file("init.sh"), _guest_file("udhcpc.sh"),
            tree / "lib" / "modules" / release,
        ))
        disk.raw_disk(work / "testvm.raw", out / "vmlinuz", out / "initrd.img")
        disk.to_qcow2(work / "testvm.raw", out / "testvm.qcow2")
        manifest = {"versions": versions, "kernel_release": release, "cmdline": disk.CMDLINE,
                    "disk_mib": disk.DISK_MIB,
                    "sha256": {f.name: hashlib.sha256(f.read_bytes()).hexdigest()
                               for f in sorted(out.iterdir())}}
        (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        out.rename(target)
    LOG.info("test image built in %.1fs: %s", time.monotonic() - began, target)
