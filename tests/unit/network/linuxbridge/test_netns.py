"""A listening socket made inside a namespace from this process (as root): it is
bound to an address only the namespace has, and a client in the namespace
reaches it; the calling thread never leaves its own namespace."""

import os
import secrets
import subprocess
from collections.abc import Iterator

import pytest

from pocketstack.network.agent.linuxbridge import netns


@pytest.fixture
def namespace() -> Iterator[str]:
    name = "pstest-" + secrets.token_hex(4)
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        subprocess.run(["ip", "-n", name, "addr", "add", "169.254.169.254/32", "dev", "lo"],
                       check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=True)


def test_socket_listens_inside_the_namespace(namespace: str):
    home = os.readlink("/proc/thread-self/ns/net")
    sock = netns.listen_in_sync(namespace, "169.254.169.254", 0)
    try:
        assert os.readlink("/proc/thread-self/ns/net") == home
        port = sock.getsockname()[1]
        client = subprocess.Popen(["ip", "netns", "exec", namespace, "busybox", "nc",
                                   "169.254.169.254", str(port)], stdin=subprocess.PIPE)
        client.stdin.write(b"hello\n")
        client.stdin.close()
        sock.setblocking(True)
        sock.settimeout(10)
        conn, _ = sock.accept()
        with conn:
            assert conn.recv(100) == b"hello\n"
        client.wait(10)
    finally:
        sock.close()


def test_the_address_is_not_the_hosts(namespace: str):
    with pytest.raises(OSError):
        netns.listen_in_sync("/proc/1/ns/net", "169.254.169.254", 0)
    with pytest.raises(FileNotFoundError):
        netns.listen_in_sync(namespace + "-missing", "169.254.169.254", 0)
