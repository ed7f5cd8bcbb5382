"""The guest's udhcpc script, run by busybox sh with a recording `ip` function.

(busybox sh runs its own applets before $PATH, so `ip` is overridden as a function.)
"""

import subprocess
from importlib import resources

SCRIPT = resources.files("pocketstack.testimage").joinpath("guest", "udhcpc.sh")


def _bound(tmp_path, **lease):
    script = tmp_path / "script.sh"
    script.write_text(f'ip() {{ echo "$*" >> {tmp_path}/ip.calls; }}\n' + SCRIPT.read_text())
    env = {"interface": "eth0", "RESOLV_CONF": str(tmp_path / "resolv.conf"),
           "IP_FILE": str(tmp_path / "ip"), **lease}
    subprocess.run(["busybox", "sh", str(script), "bound"], env=env, check=True)
    return (tmp_path / "ip.calls").read_text().splitlines()


def test_classless_static_routes_win_over_the_router_option(tmp_path):
    calls = _bound(tmp_path, ip="10.0.0.5", mask="24", router="10.0.0.99", dns="10.0.0.2",
                   staticroutes="169.254.169.254/32 10.0.0.2 0.0.0.0/0 10.0.0.1")
    assert "addr add 10.0.0.5/24 dev eth0" in calls
    assert "route add 169.254.169.254/32 via 10.0.0.2 dev eth0" in calls
    assert "route add 0.0.0.0/0 via 10.0.0.1 dev eth0" in calls
    assert not any("10.0.0.99" in c for c in calls)
    assert (tmp_path / "ip").read_text() == "10.0.0.5\n"
    assert (tmp_path / "resolv.conf").read_text() == "nameserver 10.0.0.2\n"


def test_on_link_static_route_and_plain_router(tmp_path):
    calls = _bound(tmp_path, ip="192.168.1.7", mask="28", router="192.168.1.1",
                   staticroutes="10.9.0.0/16 0.0.0.0")
    assert "route add 10.9.0.0/16 dev eth0" in calls
    assert not any("default" in c for c in calls)


def test_router_only(tmp_path):
    calls = _bound(tmp_path, ip="192.168.1.7", mask="24", router="192.168.1.1 192.168.1.2")
    assert "route add default via 192.168.1.1 dev eth0" in calls
    assert not any("192.168.1.2" in c for c in calls)
