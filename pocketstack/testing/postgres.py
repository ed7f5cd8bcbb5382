"""A throwaway PostgreSQL cluster: `initdb` in a temporary directory (as the
`postgres` user when we are root: the server refuses to run as root), trust
authentication, a free loopback port; started as a child process and stopped
by PID.

    pg = PostgresCluster.start()
    pg.database_url("c1")   # postgresql+asyncpg://postgres@127.0.0.1:PORT/c1_{service}
    pg.stop()
"""

from __future__ import annotations

import ctypes
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# Loaded before any fork: a child may not be able to read the libraries (other uid).
_LIBC = ctypes.CDLL("libc.so.6", use_errno=True)

def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    path = shutil.which(name)
    if path is None:
        raise FileNotFoundError(f"{name}: install the postgresql package")
    return path


def _die_with_parent() -> None:
    """In the child: a fast shutdown (SIGINT) when the process that started it dies."""
    _LIBC.prctl(1, signal.SIGINT)  # PR_SET_PDEATHSIG


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@dataclass
class PostgresCluster:
    directory: Path
    port: int
    proc: subprocess.Popen

    @classmethod
    def start(cls, timeout: float = 60.0) -> PostgresCluster:
        user = "postgres" if os.geteuid() == 0 else None
        directory = Path(tempfile.mkdtemp(prefix="pocketstack-pg-"))
        data, sockets = directory / "data", directory / "sockets"
        sockets.mkdir()
        if user is not None:
            entry = pwd.getpwnam(user)
            for path in (directory, sockets):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        subprocess.run([_bin("initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                        "-E", "UTF8", "--no-sync"], user=user, check=True,
                       capture_output=True)
        port = free_port()
        proc = subprocess.Popen(
            [_bin("postgres"), "-D", str(data), "-p", str(port), "-k", str(sockets),
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
             "-c", "max_connections=200"],
            user=user, stdout=subprocess.DEVNULL, stderr=open(directory / "log", "wb"),
            start_new_session=True, preexec_fn=_die_with_parent)
        cluster = cls(directory, port, proc)
        deadline = time.monotonic() + timeout
        while not _accepts(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                log = (directory / "log").read_text(errors="replace")
                cluster.stop()
                raise RuntimeError(f"postgres did not start:\n{log}")
            time.sleep(0.1)
        time.sleep(0.2)  # accepting TCP comes just before accepting logins
        return cluster

    def database_url(self, prefix: str = "pocketstack") -> str:
        """A pocketstack database_url template: one database per service."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{prefix}_{{service}}"

    def stop(self, timeout: float = 30.0) -> None:
        """Fast shutdown (SIGINT) by PID, then remove the cluster's files."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.directory, ignore_errors=True)
