"""Booting the test image with plain qemu-system-x86_64, and the KVM probe.

/dev/kvm can exist and still not run an ordinary guest (nested virtualisation
that gets through the BIOS and hangs in the kernel), so KVM counts as working
only when the test kernel really reaches its /init under it.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

from pocketstack.testimage.build import TestImage

QEMU = "qemu-system-x86_64"
MEMORY_MIB = 128  # the cloud kernel needs at least 80 MiB
PROBE_TIMEOUT = 8.0  # under KVM the kernel reaches /init in about a second


def wait_for_line(log: Path, prefix: str, timeout: float,
                  proc: subprocess.Popen | None = None) -> str:
    """The first line of log starting with prefix; TimeoutError after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if log.exists():
            text = log.read_bytes().decode(errors="replace")
            # Whole lines only: the guest may be half-way through writing the last one.
            for line in text[:text.rfind("\n") + 1].splitlines():
                at = line.find(prefix)
                if at >= 0:
                    return line[at:].strip()
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"qemu exited with {proc.returncode} before {prefix!r}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {prefix!r} in {log} after {timeout:.0f}s")
        time.sleep(0.2)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def _host_identity() -> dict[str, object]:
    """What a probe's answer depends on: this boot of the host, and the qemu binary."""
    qemu = Path(shutil.which(QEMU) or QEMU)
    st = qemu.stat() if qemu.exists() else None
    boot_id = Path("/proc/sys/kernel/random/boot_id")
    return {"boot_id": boot_id.read_text().strip() if boot_id.exists() else "",
            "qemu": [str(qemu), st.st_size if st else 0, st.st_mtime if st else 0]}


@functools.cache
def kvm_works(kernel: Path, initrd: Path, cmdline: str) -> bool:
    """Whether the test kernel reaches /init under KVM (within PROBE_TIMEOUT).

    The answer is remembered next to the kernel for this boot of the host and
    this qemu binary, so each process start does not pay the probe again.
    """
    memo = kernel.parent / "kvm-probe.json"
    identity = _host_identity()
    with contextlib.suppress(OSError, ValueError, KeyError):
        saved = json.loads(memo.read_text())
        if saved["identity"] == identity:
            return bool(saved["works"])
    works = _probe(kernel, initrd, cmdline)
    with contextlib.suppress(OSError):
        tmp = memo.with_suffix(f".{os.getpid()}")
        tmp.write_text(json.dumps({"identity": identity, "works": works}))
        os.replace(tmp, memo)
    return works


def _probe(kernel: Path, initrd: Path, cmdline: str) -> bool:
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False
    argv = [QEMU, "-accel", "kvm", "-nographic", "-nodefaults", "-no-reboot",
            "-m", str(MEMORY_MIB), "-serial", "stdio", "-kernel", str(kernel),
            "-initrd", str(initrd), "-append", f"{cmdline} pocketstack.probe panic=-1"]
    try:
        out = subprocess.run(argv, capture_output=True, timeout=PROBE_TIMEOUT).stdout
    except subprocess.TimeoutExpired:
        return False
    return b"POCKETSTACK-TESTVM-PROBE-OK" in out


def accel(image: TestImage) -> str:
    """`kvm` if a guest really runs under it here, else `tcg`."""
    return "kvm" if kvm_works(image.kernel, image.initrd, image.cmdline) else "tcg"


def boot(image: TestImage, workdir: Path, accel: str = "tcg") -> tuple[subprocess.Popen, Path]:
    """Start the image (an overlay on it) with user-mode networking.

    Returns the qemu process (stop it with `stop`) and the serial log path.
    """
    overlay = workdir / "testvm-overlay.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2",
                    "-b", str(image.qcow2), str(overlay)], check=True)
    log = workdir / "console.log"
    argv = [QEMU, "-accel", accel, "-display", "none", "-nodefaults", "-m", str(MEMORY_MIB),
            "-serial", f"file:{log}",
            "-drive", f"file={overlay},format=qcow2,if=virtio",
            "-netdev", "user,id=net0", "-device", "virtio-net-pci,netdev=net0,romfile=",
            "-device", "virtio-rng-pci"]
    with open(workdir / "qemu.err", "wb") as err:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=err)
    return proc, log
