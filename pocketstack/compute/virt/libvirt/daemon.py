"""A libvirtd of our own, for tests and `pocketstack up`, on a machine without systemd.

`ensure_running()` returns None when someone else's libvirtd answers on
qemu:///system (leave it alone), else a `Lease` on ours: virtlogd and
libvirtd started with -d and pid files, shared by concurrent users (test
runs, `pocketstack up`) and stopped by PID when the last lease is stopped.
Debian 12 has no virtqemud; without libvirt-daemon-system there is no
qemu.conf and no libvirt-qemu user, and libvirtd exits at start without that
user, so both are provided (the qemu.conf only when there is none).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

LOG = logging.getLogger(__name__)
SOCKET = Path("/run/libvirt/libvirt-sock")
RUN_DIR = Path("/run/pocketstack/libvirtd")  # our pid files and users; the daemon is per host
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


def _stop_pid(pid: int, timeout: float = 15.0) -> None:
    if pid <= 0:
        return
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


def _our_pid(run_dir: Path, name: str) -> int | None:
    """The pid in run_dir/name.pid if that process still runs."""
    with contextlib.suppress(FileNotFoundError, ValueError):
        pid = int((run_dir / f"{name}.pid").read_text().strip())
        if pid > 0 and _alive(pid):
            return pid
    return None


@contextlib.contextmanager
def _locked(run_dir: Path):
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "users").mkdir(exist_ok=True)
    with open(run_dir / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for user in (run_dir / "users").iterdir():  # forget users that died
            if not _alive(int(user.name.split("-")[0])):
                user.unlink(missing_ok=True)
        yield


@dataclass
class Lease:
    """One user of the libvirtd we run; the last user to stop() stops the daemons."""

    run_dir: Path
    user: Path

    def stop(self) -> None:
        with _locked(self.run_dir):
            self.user.unlink(missing_ok=True)
            if any((self.run_dir / "users").iterdir()):
                return
            for name in ("libvirtd", "virtlogd"):
                pid = _our_pid(self.run_dir, name)
                if pid:
                    _stop_pid(pid)
                    LOG.info("stopped %s (pid %d)", name, pid)


def _start_both(run_dir: Path, uri: str) -> None:
    _prepare()
    virtlogd = _our_pid(run_dir, "virtlogd") or _start("virtlogd", run_dir / "virtlogd.pid")
    try:
        libvirtd = _start("libvirtd", run_dir / "libvirtd.pid")
    except Exception:
        _stop_pid(virtlogd)
        raise
    deadline = time.monotonic() + START_TIMEOUT
    while not answering(uri, timeout=START_TIMEOUT):
        if not _alive(libvirtd) or time.monotonic() > deadline:
            _stop_pid(libvirtd)
            _stop_pid(virtlogd)
            raise DaemonError("libvirtd did not come up; see /var/log/libvirt/libvirtd.log")
        time.sleep(0.2)
    LOG.info("started libvirtd (pid %d) and virtlogd (pid %d)", libvirtd, virtlogd)


def ensure_running(run_dir: Path = RUN_DIR, uri: str = "qemu:///system") -> Lease | None:
    """A libvirtd on uri. None when it is someone else's (a system one: leave it
    alone); else a Lease on ours, started now if needed. run_dir holds the pid
    files and one file per user, so concurrent test runs share one daemon and
    the last one out stops it."""
    with _locked(run_dir):
        ours = _our_pid(run_dir, "libvirtd")
        if ours is None:
            if answering(uri):
                return None
            _start_both(run_dir, uri)
        user = run_dir / "users" / f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        user.touch()
        return Lease(run_dir, user)
