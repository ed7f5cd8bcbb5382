"""The throwaway guest network cleans up after owners that died without stopping it."""

import json
import subprocess

from pocketstack.testing import guestnet


def _exists(bridge: str) -> bool:
    return subprocess.run(["ip", "link", "show", bridge], capture_output=True).returncode == 0


def test_networks_of_dead_owners_are_reaped():
    dead = subprocess.Popen(["true"])
    dead.wait()
    bridge, prefix, port = "psbrdeadbe", "10.199.77", 4242
    subprocess.run(["ip", "link", "add", "name", bridge, "type", "bridge"], check=True)
    guestnet._iptables("-A", guestnet._dnat(bridge, prefix, port))
    guestnet.REGISTRY.mkdir(parents=True, exist_ok=True)
    entry = guestnet.REGISTRY / f"{bridge}.json"
    entry.write_text(json.dumps({"pid": dead.pid, "prefix": prefix, "port": port}))
    guestnet.reap_stale()
    assert not _exists(bridge) and not entry.exists()
    rules = subprocess.run(["iptables", "-w", "-t", "nat", "-S", "PREROUTING"],
                           capture_output=True, text=True, check=True).stdout
    assert bridge not in rules


def test_a_live_owner_keeps_its_network():
    net = guestnet.GuestNetwork.start()
    try:
        guestnet.reap_stale()
        assert _exists(net.bridge)
        assert (guestnet.REGISTRY / f"{net.bridge}.json").exists()
    finally:
        net.stop()
    assert not _exists(net.bridge)
    assert not (guestnet.REGISTRY / f"{net.bridge}.json").exists()
