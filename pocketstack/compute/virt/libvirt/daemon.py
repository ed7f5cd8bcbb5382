"""A libvirtd of our own, for tests and `pocketstack up`, on a machine without systemd.

`ensure_running(run_dir)` returns None when a libvirtd already answers on
qemu:///system (someone else's: leave it alone), else starts virtlogd and
libvirtd (-d, with pid files in run_dir) and returns a `Daemons` to `stop()`
by PID. Debian 12 has no virtqemud; without libvirt-daemon-system there is no
qemu.conf and no libvirt-qemu user, and libvirtd exits at start without that
user, so both are provided (the qemu.conf only when there is none).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

LOG = logging.getLogger(__name__)
SOCKET = Path("/run/libvirt/libvirt-sock")
QEMU_CONF = Path("/etc/libvirt/qemu.conf")
QEMU_CONF_TEXT = """\
# Written by pocketstack (compute/virt/libvirt/daemon.py) because there was none:
# guests run as root, without a security driver, their console logs via virtlogd.
user = "root"
group = "root"
dynamic_ownership = 0
security_driver = "none"
"""
DIRS = ("/var/log/libvirt", "/var/lib/libvirt", "/var/cache/libvirt", "/run/libvirt")
START_TIMEOUT = 60.0  # the first start probes QEMU for ~8 s, more on a loaded machine


class DaemonError(RuntimeError):
    pass


def answering(uri: str = "qemu:///system", timeout: float = 30.0) -> bool:
    """Whether a libvirtd serves uri (a dead socket file does not count)."""
    if not SOCKET.exists():
        return False
    done = subprocess.run(["virsh", "-c", uri, "version"], capture_output=True,
                          timeout=timeout, check=False)
    return done.returncode == 0


def _prepare() -> None:
    for d in DIRS:
        Path(d).mkdir(parents=True, exist_ok=True)
    if subprocess.run(["getent", "passwd", "libvirt-qemu"], capture_output=True).returncode:
        subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir",
                        "/var/lib/libvirt", "--shell", "/usr/sbin/nologin", "--user-group",
                        "libvirt-qemu"], check=True, capture_output=True)
    if not QEMU_CONF.exists():
        QEMU_CONF.parent.mkdir(parents=True, exist_ok=True)
        QEMU_CONF.write_text(QEMU_CONF_TEXT)


def _read_pid(path: Path, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(FileNotFoundError, ValueError):
            return int(path.read_text().strip())
        time.sleep(0.05)
    raise DaemonError(f"{path} did not appear")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@dataclass
class Daemons:
    """virtlogd and libvirtd that we started; stop() ends both by PID."""

    libvirtd: int
    virtlogd: int

    def stop(self, timeout: float = 15.0) -> None:
        for pid in (p for p in (self.libvirtd, self.virtlogd) if p > 0):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if _alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


def _start(binary: str, pidfile: Path) -> int:
    pidfile.unlink(missing_ok=True)
    done = subprocess.run([binary, "-d", "-p", str(pidfile)], capture_output=True, text=True)
    if done.returncode:
        raise DaemonError(f"{binary} failed to start: {done.stderr.strip()}")
    return _read_pid(pidfile, 10)


def ensure_running(run_dir: Path, uri: str = "qemu:///system") -> Daemons | None:
    """A libvirtd on uri: None if one was there already, else the daemons we started."""
    if answering(uri):
        return None
    _prepare()
    run_dir.mkdir(parents=True, exist_ok=True)
    virtlogd = _start("virtlogd", run_dir / "virtlogd.pid")
    try:
        libvirtd = _start("libvirtd", run_dir / "libvirtd.pid")
    except Exception:
        Daemons(0, virtlogd).stop()
        raise
    daemons = Daemons(libvirtd, virtlogd)
    deadline = time.monotonic() + START_TIMEOUT
    while not answering(uri, timeout=START_TIMEOUT):
        if not _alive(libvirtd) or time.monotonic() > deadline:
            daemons.stop()
            raise DaemonError("libvirtd did not come up; see /var/log/libvirt/libvirtd.log")
        time.sleep(0.2)
    LOG.info("started libvirtd (pid %d) and virtlogd (pid %d)", libvirtd, virtlogd)
    return daemons
