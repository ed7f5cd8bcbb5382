"""The Debian packages the test image is made of: their versions and files.

The kernel .deb is taken from apt's cache or fetched with `apt-get download`,
and unpacked with `dpkg-deb -x` (never installed); busybox-static and
syslinux come from the installed packages (deps/debian-test.txt).
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
from pathlib import Path
from urllib.parse import unquote

KERNEL_META = "linux-image-cloud-amd64"
KERNEL_GLOB = "linux-image-*-cloud-amd64_*_amd64.deb"
APT_ARCHIVES = Path("/var/cache/apt/archives")
BUSYBOX = Path("/bin/busybox")
SYSLINUX_MBR = Path("/usr/lib/syslinux/mbr/mbr.bin")


class MissingPackage(RuntimeError):
    """A package the image needs is neither installed nor known to apt."""


def _run(*argv: str, cwd: Path | None = None) -> str:
    try:
        done = subprocess.run(argv, cwd=cwd, check=True, capture_output=True, text=True)
    except FileNotFoundError as e:
        raise MissingPackage(f"{argv[0]} is not installed (see deps/debian-test.txt)") from e
    except subprocess.CalledProcessError as e:
        raise MissingPackage(f"{' '.join(argv)} failed: {e.stderr.strip()}") from e
    return done.stdout


def installed_version(package: str) -> str:
    out = _run("dpkg-query", "-W", "-f=${Status}|${Version}", package)
    status, _, version = out.partition("|")
    if "install ok installed" not in status:
        raise MissingPackage(f"Debian package {package} is not installed "
                             "(scripts/install-debs.sh $(cat deps/debian-test.txt))")
    return version


def _compare(a: str, b: str) -> int:
    if a == b:
        return 0
    lower = subprocess.run(["dpkg", "--compare-versions", a, "lt", b]).returncode == 0
    return -1 if lower else 1


def deb_version(deb: Path) -> str:
    return unquote(deb.name.split("_")[1])


def kernel_deb(cache_dir: Path) -> Path:
    """A cloud kernel image .deb: the newest one already here, else downloaded.

    Looks in cache_dir/debs and apt's archive cache first (so an offline
    machine with a seeded apt cache builds), then `apt-get download`s the
    kernel linux-image-cloud-amd64 points at into cache_dir/debs.
    """
    local = [d for where in (cache_dir / "debs", APT_ARCHIVES)
             for d in where.glob(KERNEL_GLOB) if not d.name.startswith(KERNEL_META + "_")]
    if local:
        return max(local, key=functools.cmp_to_key(
            lambda a, b: _compare(deb_version(a), deb_version(b))))
    name, version = _candidate()
    where = cache_dir / "debs"
    where.mkdir(parents=True, exist_ok=True)
    _run("apt-get", "download", "-q", f"{name}={version}", cwd=where)
    debs = list(where.glob(f"{name}_*.deb"))
    if len(debs) != 1:
        raise MissingPackage(f"apt-get download {name} produced {debs}")
    return debs[0]


def _kernel_depends() -> str:
    """What KERNEL_META depends on; apt's lists are refreshed once if apt knows no
    such package (a fresh machine or container whose lists were cleaned)."""
    try:
        return _run("apt-cache", "depends", KERNEL_META)
    except MissingPackage:
        if os.geteuid() != 0:
            raise MissingPackage(f"apt knows no {KERNEL_META}; run apt-get update") from None
    _run("apt-get", "update", "-q")
    return _run("apt-cache", "depends", KERNEL_META)


def _candidate() -> tuple[str, str]:
    """(name, version) of the kernel image the cloud metapackage points at."""
    depends = _kernel_depends()
    match = re.search(r"Depends: (linux-image-[^\s]+)", depends)
    if not match:
        raise MissingPackage(f"apt knows no {KERNEL_META}; run apt-get update")
    name = match.group(1)
    show = _run("apt-cache", "show", "--no-all-versions", name)
    version = re.search(r"^Version: (\S+)", show, re.M)
    if not version:
        raise MissingPackage(f"apt has no version of {name}")
    return name, version.group(1)


def unpack(deb: Path, into: Path) -> Path:
    _run("dpkg-deb", "-x", str(deb), str(into))
    return into
