"""A throwaway RabbitMQ node: its own data directory, free loopback ports,
its own epmd; started as a child process group and stopped by PID (and,
started from the main thread, stopped too if the process that started it dies).

    broker = RabbitBroker.start()       # waits until AMQP accepts
    url = broker.url                    # rabbit://guest:guest@127.0.0.1:PORT/
    broker.restart()                    # same node, same data: durable queues survive
    broker.stop()
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"
EPMD = "epmd"


def _die_with_parent() -> None:
    """In the child: SIGTERM (a clean stop) when the thread that started it dies."""
    ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _guard():  # noqa: ANN202
    # The signal follows the starting *thread*: only tie the node to the main one
    # (a restart from a worker thread would otherwise die with that thread).
    return _die_with_parent if threading.current_thread() is threading.main_thread() else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _accepts(port: int) -> bool:
    """True once the node speaks AMQP (answers the protocol header)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"AMQP\x00\x00\x09\x01")
            s.settimeout(2)
            return s.recv(1) == b"\x01"  # a Connection.Start method frame
    except OSError:
        return False


def _stop_group(proc: subprocess.Popen | None, timeout: float = 15) -> None:
    if proc is None or proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


@dataclass
class RabbitBroker:
    base: Path
    port: int = field(default_factory=free_port)
    dist_port: int = field(default_factory=free_port)
    epmd_port: int = field(default_factory=free_port)
    nodename: str = field(default_factory=lambda: f"rabbit-{uuid.uuid4().hex[:8]}@localhost")
    own_base: bool = False
    server: subprocess.Popen | None = None
    epmd: subprocess.Popen | None = None

    @classmethod
    def available(cls) -> bool:
        return Path(SERVER).exists() and shutil.which(EPMD) is not None

    @classmethod
    def start(cls, base: Path | None = None, timeout: float = 60) -> RabbitBroker:
        own = base is None
        broker = cls(Path(base or tempfile.mkdtemp(prefix="pocketstack-rabbit-")), own_base=own)
        broker.launch(timeout)
        return broker

    @property
    def url(self) -> str:
        return f"rabbit://guest:guest@127.0.0.1:{self.port}/"

    def environment(self) -> dict[str, str]:
        (self.base / "home").mkdir(parents=True, exist_ok=True)
        plugins = self.base / "enabled_plugins"
        plugins.write_text("[].\n")
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.base / "home"),
            "LANG": "C.UTF-8",
            "RABBITMQ_NODENAME": self.nodename,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "ERL_EPMD_PORT": str(self.epmd_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_MNESIA_BASE": str(self.base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.base / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(plugins),
            "RABBITMQ_CONFIG_FILE": str(self.base / "rabbitmq"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(self.base / "advanced.config"),
            "RABBITMQ_CONF_ENV_FILE": str(self.base / "rabbitmq-env.conf"),
            "RABBITMQ_PID_FILE": str(self.base / "rabbit.pid"),
            "RABBITMQ_LOGS": str(self.base / "log" / "rabbit.log"),
            # no busy-waiting schedulers: on a small shared machine they take the
            # cores the clients need (RabbitMQ's advice for shared hosts)
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "+sbwt none +sbwtdcpu none +sbwtdio none",
        }

    def launch(self, timeout: float = 60) -> None:
        self.spawn()
        self.wait_ready(timeout)

    def spawn(self) -> None:
        """Start epmd (if not running) and the node; returns at once."""
        env = self.environment()
        log = open(self.base / "server.out", "ab")  # noqa: SIM115 - the children keep a copy
        if self.epmd is None or self.epmd.poll() is not None:
            self.epmd = subprocess.Popen(
                [EPMD, "-port", str(self.epmd_port), "-address", "127.0.0.1"],
                env=env, stdout=log, stderr=log, start_new_session=True, preexec_fn=_guard(),
            )
        self.server = subprocess.Popen(
            [SERVER], env=env, cwd=self.base, stdout=log, stderr=log, start_new_session=True,
            preexec_fn=_guard(),
        )
        log.close()

    def wait_ready(self, timeout: float = 60) -> None:
        """Block until the node speaks AMQP (safe to run in a worker thread)."""
        deadline = time.monotonic() + timeout
        while not _accepts(self.port):
            if self.server is None or self.server.poll() is not None or (
                time.monotonic() > deadline
            ):
                self.stop()
                tail = (self.base / "server.out").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"RabbitMQ did not start on port {self.port}:\n{tail}")
            time.sleep(0.2)

    def kill(self) -> None:
        """Stop the node (not epmd), as a crash or a restart would."""
        _stop_group(self.server)
        self.server = None

    def restart(self, down_for: float = 0.0) -> None:
        """Stop and start the node (from the main thread: see `_guard`)."""
        self.kill()
        time.sleep(down_for)
        self.launch()

    def stop(self) -> None:
        self.kill()
        _stop_group(self.epmd, timeout=5)
        self.epmd = None
        if self.own_base:
            shutil.rmtree(self.base, ignore_errors=True)
