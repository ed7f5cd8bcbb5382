"""Child processes tied to their parent: started with PR_SET_PDEATHSIG so they
get SIGTERM when the thread that started them dies (a killed agent or test
leaves no dnsmasq behind), stopped by PID, and asked whether a PID lives."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess

_LIBC = ctypes.CDLL("libc.so.6", use_errno=True)  # loaded before any fork
PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In the child, before exec."""
    _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(argv: list[str]) -> subprocess.Popen:
    """Start a child that dies with this thread; call it from a thread that lives
    as long as the child should (the event loop's)."""
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, preexec_fn=die_with_parent)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL after `timeout`; reaps the child."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
