"""A router's nat table: SNAT of its subnets, DNAT and SNAT per floating IP."""

from pocketstack.network.agent.linuxbridge import router
from pocketstack.network.agent.linuxbridge.topology import Leg, Router

GW = Leg("gw0123456789", "ext", "fa:16:3e:00:00:0a", ("172.24.4.10/24",))
LEGS = (Leg("if0123456789", "n1", "fa:16:3e:00:00:01", ("10.0.0.1/26",)),
        Leg("if9876543210", "n2", "fa:16:3e:00:00:02", ("10.0.1.1/24",)))


def test_snat_and_floating_ips():
    r = Router("r1", LEGS, GW, "172.24.4.1", True, (("172.24.4.20", "10.0.0.5"),))
    rules = [line for line in router.render_nat(r).splitlines() if line.startswith("-A")]
    assert rules == [
        "-A PREROUTING -d 172.24.4.20/32 -j DNAT --to-destination 10.0.0.5",
        "-A OUTPUT -d 172.24.4.20/32 -j DNAT --to-destination 10.0.0.5",
        "-A POSTROUTING -s 10.0.0.5/32 -o qg-gw012345678 -j SNAT --to-source 172.24.4.20",
        "-A POSTROUTING -s 10.0.0.0/26 -o qg-gw012345678 -j SNAT --to-source 172.24.4.10",
        "-A POSTROUTING -s 10.0.1.0/24 -o qg-gw012345678 -j SNAT --to-source 172.24.4.10",
    ]


def test_no_gateway_or_snat_disabled():
    assert "-A" not in router.render_nat(Router("r1", LEGS))
    no_snat = router.render_nat(Router("r1", LEGS, GW, "172.24.4.1", snat=False))
    assert "SNAT" not in no_snat
