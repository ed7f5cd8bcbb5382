"""Security groups rendered as iptables-restore input."""

from pocketstack.network.agent.linuxbridge import firewall
from pocketstack.network.agent.linuxbridge.firewall import PortFilter, Rule

PORT = "0123456789abcdef"
FILTER = PortFilter(PORT, "fa:16:3e:00:00:01",
                    (("10.0.0.5", "fa:16:3e:00:00:01"), ("10.0.0.99/32", "fa:16:3e:00:00:09"),
                     ("fd00::5", "fa:16:3e:00:00:01")),
                    (Rule("ingress", "tcp", 22, 22, "0.0.0.0/0"),
                     Rule("ingress", None, remote_ips=("10.0.0.5", "10.0.0.6", "fd00::6")),
                     Rule("egress"),
                     Rule("ingress", "icmp", 8, 0, "192.0.2.0/24"),
                     Rule("ingress", "udp", 1000, 2000),
                     Rule("ingress", "tcp", remote_ip_prefix="fd00::/64")))


def test_chains_are_named_from_the_agent_and_the_port():
    assert firewall.agent_chain("a" * 20) == "ps-" + "a" * 12
    assert firewall.port_chains(PORT) == ("psi-0123456789a", "pso-0123456789a",
                                          "pss-0123456789a")


def test_a_port_document():
    doc = firewall.render("agent1", [FILTER]).splitlines()
    i, o, s = firewall.port_chains(PORT)
    assert doc[0] == "*filter" and doc[-1] == "COMMIT"
    assert doc[1:5] == [":ps-agent1 - [0:0]", f":{i} - [0:0]", f":{o} - [0:0]", f":{s} - [0:0]"]
    assert f"-A ps-agent1 -m physdev --physdev-out tap0123456789a --physdev-is-bridged -j {i}" \
        in doc
    assert f"-A ps-agent1 -m physdev --physdev-in tap0123456789a -j {o}" in doc
    ingress = [line for line in doc if line.startswith(f"-A {i} ")]
    assert ingress == [
        f"-A {i} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
        f"-A {i} -m conntrack --ctstate INVALID -j DROP",
        f"-A {i} -p udp -m udp --sport 67 --dport 68 -j RETURN",
        f"-A {i} -p tcp -m tcp --dport 22 -j RETURN",
        f"-A {i} -s 10.0.0.5 -j RETURN",
        f"-A {i} -s 10.0.0.6 -j RETURN",
        f"-A {i} -s 192.0.2.0/24 -p icmp -m icmp --icmp-type 8/0 -j RETURN",
        f"-A {i} -p udp -m udp --dport 1000:2000 -j RETURN",
        f"-A {i} -j DROP",
    ]
    spoofing = [line for line in doc if line.startswith(f"-A {o} ")]
    assert spoofing == [
        f"-A {o} -p udp -m udp --sport 68 --dport 67 -j RETURN",
        f"-A {o} -s 10.0.0.5 -m mac --mac-source fa:16:3e:00:00:01 -g {s}",
        f"-A {o} -s 10.0.0.99/32 -m mac --mac-source fa:16:3e:00:00:09 -g {s}",
        f"-A {o} -j DROP",
    ]
    egress = [line for line in doc if line.startswith(f"-A {s} ")]
    assert egress[2:] == [f"-A {s} -j RETURN", f"-A {s} -j DROP"]


def test_removed_ports_chains_are_flushed_then_deleted():
    doc = firewall.render("agent1", [], removed=[PORT]).splitlines()
    i, o, s = firewall.port_chains(PORT)
    assert doc == ["*filter", ":ps-agent1 - [0:0]", f"-F {i}", f"-F {o}", f"-F {s}",
                   f"-X {i}", f"-X {o}", f"-X {s}", "COMMIT"]


def test_protocol_numbers_and_empty_groups():
    assert firewall.matches(Rule("egress", "132", 5000, 5001)) == \
        ["-p 132 -m multiport --dports 5000:5001"]
    assert firewall.matches(Rule("egress", "47", remote_ip_prefix="10.1.0.0/16")) == \
        ["-d 10.1.0.0/16 -p 47"]
    assert firewall.matches(Rule("ingress", "tcp", 80, 80, remote_ips=())) == []


def test_remote_groups_go_through_one_member_chain():
    port = PortFilter(PORT, "fa:16:3e:00:00:01", (("10.0.0.5", "fa:16:3e:00:00:01"),),
                      (Rule("ingress", remote_group="group-one-id"),
                       Rule("ingress", "tcp", 22, 22, remote_group="group-one-id")))
    doc = firewall.render("a1", [port], {"group-one-id": ("10.0.0.5", "10.0.0.6", "fd00::1")},
                          removed_groups=["old-group-id"]).splitlines()
    i = firewall.port_chains(PORT)[0]
    assert firewall.group_chain("group-one-id") == "psm-group-one-i"
    assert doc[2:5] == [":psm-group-one-i - [0:0]",
                        "-A psm-group-one-i -s 10.0.0.5 -j MARK --set-xmark "
                        "0x40000000/0x40000000",
                        "-A psm-group-one-i -s 10.0.0.6 -j MARK --set-xmark "
                        "0x40000000/0x40000000"]
    assert [line for line in doc if line.startswith(f"-A {i} ")][3:] == [
        f"-A {i} -j MARK --set-xmark 0x0/0x40000000",
        f"-A {i} -j psm-group-one-i",
        f"-A {i} -m mark --mark 0x40000000/0x40000000 -j RETURN",
        f"-A {i} -m mark --mark 0x40000000/0x40000000 -p tcp -m tcp --dport 22 -j RETURN",
        f"-A {i} -j DROP"]
    assert doc[-3:] == ["-F psm-old-group-i", "-X psm-old-group-i", "COMMIT"]
