"""A throwaway guest network: a Linux bridge with an address, dnsmasq for DHCP
(with classless static routes, option 121, to the metadata address), and a
stub metadata service answering what the test sets: it listens on a free port
of the bridge's address, and an iptables DNAT rule for this bridge only sends
the guests' 169.254.169.254:80 there (so concurrent test runs do not collide).

    net = GuestNetwork.start()          # bridge psbrXXXXXX, 10.R.R.1/24
    net.metadata["meta_data.json"] = json.dumps({...})
    ... a guest NIC on net.bridge gets an address in net.prefix + ".0/24" ...
    net.stop()                          # dnsmasq stopped by PID, bridge deleted

Needs root (CAP_NET_ADMIN) and dnsmasq-base. dnsmasq dies with the process
that started it, and each network is registered in /run/pocketstack/guestnet
with its owner's pid: a later start removes the bridges and NAT rules of
owners that died without stopping them (a killed test run).
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import random
import secrets
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from pocketstack.network.agent.linuxbridge.dnsmasq import METADATA_IP
from pocketstack.network.agent.linuxbridge.process import alive, die_with_parent

REGISTRY = Path("/run/pocketstack/guestnet")


def reap_stale() -> None:
    """Remove the networks whose owner died without stopping them."""
    for entry in REGISTRY.glob("*.json") if REGISTRY.is_dir() else []:
        with contextlib.suppress(OSError, ValueError, KeyError):
            owner = json.loads(entry.read_text())
            if alive(owner["pid"]):
                continue
            with contextlib.suppress(subprocess.CalledProcessError):
                _iptables("-D", _dnat(entry.stem, owner["prefix"], owner["port"]))
            subprocess.run(["ip", "link", "del", entry.stem], capture_output=True)
            entry.unlink()


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


class _Metadata(http.server.BaseHTTPRequestHandler):
    answers: dict[str, str] = {}

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        name = self.path.removeprefix("/openstack/latest/")
        body = self.answers.get(name)
        if body is None:
            self.send_error(404)
            return
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


def _dnat(bridge: str, prefix: str, port: int) -> list[str]:
    return ["PREROUTING", "-i", bridge, "-d", f"{METADATA_IP}/32", "-p", "tcp",
            "--dport", "80", "-j", "DNAT", "--to-destination", f"{prefix}.1:{port}"]


def _iptables(action: str, rule: list[str]) -> None:
    subprocess.run(["iptables", "-w", "-t", "nat", action, *rule], check=True,
                   capture_output=True)


@dataclass
class GuestNetwork:
    bridge: str
    prefix: str  # "10.231.17"
    workdir: Path
    dnsmasq: subprocess.Popen
    server: http.server.HTTPServer
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def gateway(self) -> str:
        return f"{self.prefix}.1"

    @classmethod
    def start(cls) -> GuestNetwork:
        reap_stale()
        bridge = "psbr" + secrets.token_hex(3)
        prefix = f"10.{random.randint(200, 250)}.{random.randint(0, 255)}"
        workdir = Path(tempfile.mkdtemp(prefix="guestnet-"))
        _ip("link", "add", "name", bridge, "type", "bridge")
        try:
            _ip("addr", "add", f"{prefix}.1/24", "dev", bridge)
            _ip("link", "set", bridge, "up")
            answers: dict[str, str] = {}
            handler = type("Metadata", (_Metadata,), {"answers": answers})
            server = http.server.ThreadingHTTPServer((f"{prefix}.1", 0), handler)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            REGISTRY.mkdir(parents=True, exist_ok=True)
            (REGISTRY / f"{bridge}.json").write_text(json.dumps(
                {"pid": os.getpid(), "prefix": prefix, "port": server.server_port}))
            _iptables("-A", _dnat(bridge, prefix, server.server_port))
            dnsmasq = subprocess.Popen(cls._dnsmasq_argv(bridge, prefix, workdir),
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                       preexec_fn=die_with_parent)
        except Exception:
            subprocess.run(["ip", "link", "del", bridge], capture_output=True)
            raise
        return cls(bridge, prefix, workdir, dnsmasq, server, metadata=answers)

    @staticmethod
    def _dnsmasq_argv(bridge: str, prefix: str, workdir: Path) -> list[str]:
        gw = f"{prefix}.1"
        return ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--port=0",
                "--user=root", "--bind-interfaces", f"--interface={bridge}",
                "--except-interface=lo", f"--listen-address={gw}",
                f"--dhcp-range={prefix}.10,{prefix}.200,255.255.255.0,1h",
                f"--dhcp-leasefile={workdir}/leases", f"--pid-file={workdir}/dnsmasq.pid",
                f"--dhcp-option=option:classless-static-route,{METADATA_IP}/32,{gw},"
                f"0.0.0.0/0,{gw}"]

    def stop(self) -> None:
        if self.dnsmasq.poll() is None:
            self.dnsmasq.terminate()
        self.dnsmasq.wait(10)
        _iptables("-D", _dnat(self.bridge, self.prefix, self.server.server_port))
        self.server.shutdown()
        self.server.server_close()
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True)
        (REGISTRY / f"{self.bridge}.json").unlink(missing_ok=True)
