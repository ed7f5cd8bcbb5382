"""A fake guest for data-plane tests: a network namespace whose `eth0` is one
end of a veth, the other end named as libvirt would name the port's tap
(`tap` + port id[:11]) and left in the root namespace for the agent to plug
into the network's bridge. It asks for an address with busybox's udhcpc.

    guest = FakeGuest.create(port["id"], port["mac_address"])
    lease = guest.dhcp()            # {"ip": ..., "router": ..., "staticroutes": ...}
    guest.configure(lease)          # address and routes (option 121) from the lease
    guest.ping("10.0.0.1")
    guest.delete()                  # the namespace, and with it both veth ends

Needs root and busybox. Names are unique per port, so concurrent runs do not
collide; `delete` is safe to call twice.
"""

from __future__ import annotations

import ipaddress
import secrets
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pocketstack.network.agent.linuxbridge.ip import tap_name

SCRIPT = """#!/bin/sh
[ "$1" = bound ] || exit 0
{ echo "ip=$ip"; echo "mask=$mask"; echo "router=$router"; echo "dns=$dns";
  echo "staticroutes=$staticroutes"; echo "mtu=$mtu"; echo "hostname=$hostname"; } > "$LEASE"
"""


@dataclass
class FakeGuest:
    netns: str
    tap: str
    workdir: Path

    @classmethod
    def create(cls, port_id: str, mac: str) -> FakeGuest:
        netns, tap = "psg-" + secrets.token_hex(4), tap_name(port_id)
        subprocess.run(["ip", "netns", "add", netns], check=True, capture_output=True)
        guest = cls(netns, tap, Path(tempfile.mkdtemp(prefix="fakeguest-")))
        try:
            for args in (["add", tap, "type", "veth", "peer", "name", "eth0", "address", mac,
                          "netns", netns], ["set", tap, "up"]):
                subprocess.run(["ip", "link", *args], check=True, capture_output=True)
            guest.run("ip", "link", "set", "lo", "up")
            guest.run("ip", "link", "set", "eth0", "up")
        except Exception:
            guest.delete()
            raise
        return guest

    def run(self, *argv: str, check: bool = True,
            timeout: float = 30) -> subprocess.CompletedProcess:
        return subprocess.run(["ip", "netns", "exec", self.netns, *argv], check=check,
                              capture_output=True, text=True, timeout=timeout)

    def dhcp(self, tries: int = 5) -> dict[str, str]:
        """One DHCP exchange (udhcpc); the lease's fields, or {} if none came."""
        script, lease = self.workdir / "udhcpc.sh", self.workdir / "lease"
        script.write_text(SCRIPT)
        script.chmod(0o755)
        lease.unlink(missing_ok=True)
        subprocess.run(["ip", "netns", "exec", self.netns, "env", f"LEASE={lease}",
                        "busybox", "udhcpc", "-i", "eth0", "-n", "-q", "-f", "-t", str(tries),
                        "-T", "1", "-A", "1", "-O", "staticroutes", "-O", "mtu", "-s", str(script)],
                       capture_output=True, text=True, timeout=tries * 3 + 10)
        if not lease.exists():
            return {}
        return dict(line.split("=", 1) for line in lease.read_text().splitlines() if "=" in line)

    def configure(self, lease: dict[str, str]) -> None:
        """The lease's address, then its classless static routes (option 121) or
        else its router, as a DHCP client does."""
        prefix = ipaddress.ip_network(f"0.0.0.0/{lease['mask']}").prefixlen
        self.run("ip", "addr", "replace", f"{lease['ip']}/{prefix}", "dev", "eth0")
        hops = lease.get("staticroutes", "").split()
        routes = list(zip(hops[::2], hops[1::2], strict=True))
        if not routes and lease.get("router"):
            routes = [("0.0.0.0/0", lease["router"].split()[0])]
        for dest, via in routes:
            self.run("ip", "route", "replace", "default" if dest == "0.0.0.0/0" else dest,
                     "via", via)

    def http_get(self, url: str) -> str:
        """A GET from inside the guest (Python's urllib; busybox wget needs NSS)."""
        code = ("import sys, urllib.request; "
                "sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=10).read()"
                ".decode())")
        return self.run(sys.executable, "-c", code, url).stdout

    def ping(self, address: str) -> bool:
        return self.run("busybox", "ping", "-c1", "-W1", address, check=False).returncode == 0

    def delete(self) -> None:
        subprocess.run(["ip", "netns", "del", self.netns], capture_output=True)
        subprocess.run(["ip", "link", "del", self.tap], capture_output=True)
