"""Sockets inside a network namespace, without a process in it: a thread
enters the namespace (setns on /run/netns/NAME), creates the socket and
leaves; the socket keeps the namespace it was created in. Used to listen on
169.254.169.254:80 in each qdhcp namespace for the metadata proxy."""

from __future__ import annotations

import asyncio
import ctypes
import os
import socket
import threading
from pathlib import Path

from pocketstack.network.agent.linuxbridge.ip import NETNS_DIR

CLONE_NEWNET = 0x40000000
_LIBC = ctypes.CDLL("libc.so.6", use_errno=True)


def _setns(fd: int) -> None:
    if _LIBC.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def listen_in_sync(netns: str | Path, host: str, port: int, backlog: int = 128) -> socket.socket:
    """A non-blocking TCP socket bound to host:port and listening, inside `netns`
    (a name under /run/netns or a path). Runs in its own thread: the namespace
    switch never touches the caller's thread."""
    path = Path(netns) if os.sep in str(netns) else NETNS_DIR / str(netns)
    result: dict[str, object] = {}

    def inside() -> None:
        try:
            with open(path, "rb") as target, open("/proc/thread-self/ns/net", "rb") as home:
                _setns(target.fileno())
                try:
                    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                    try:
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                        sock.bind((host, port))
                        sock.listen(backlog)
                        sock.setblocking(False)
                    except BaseException:
                        sock.close()
                        raise
                    result["sock"] = sock
                finally:
                    _setns(home.fileno())
        except BaseException as e:  # noqa: BLE001 - handed to the caller
            result["error"] = e

    thread = threading.Thread(target=inside, name=f"netns-{path.name}")
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    return result["sock"]  # type: ignore[return-value]


async def listen_in(netns: str | Path, host: str, port: int) -> socket.socket:
    return await asyncio.to_thread(listen_in_sync, netns, host, port)
