"""The wanted host state, built from the network service's listings."""

from pocketstack.network.agent.linuxbridge.topology import Listing, build

NET = {"id": "n1", "mtu": 1450, "project_id": "p1", "router:external": False}
EXT = {"id": "ext", "mtu": 1500, "project_id": "admin", "router:external": True}
SUBNETS = [
    {"id": "s1", "network_id": "n1", "cidr": "10.0.0.0/24", "ip_version": 4,
     "enable_dhcp": True, "gateway_ip": "10.0.0.1", "dns_nameservers": [], "host_routes": []},
    {"id": "s6", "network_id": "n1", "cidr": "fd00::/64", "ip_version": 6,
     "enable_dhcp": True, "gateway_ip": "fd00::1", "dns_nameservers": [], "host_routes": []},
    {"id": "se", "network_id": "ext", "cidr": "172.24.4.0/24", "ip_version": 4,
     "enable_dhcp": False, "gateway_ip": "172.24.4.1", "dns_nameservers": [],
     "host_routes": []},
]


def port(id_, owner="compute:nova", host="", ip="10.0.0.5", device="vm1", net="n1",
         subnet="s1", groups=()):
    return {"id": id_, "network_id": net, "mac_address": f"fa:16:3e:00:00:{id_[-2:]}",
            "device_owner": owner, "device_id": device, "binding:host_id": host,
            "fixed_ips": [{"subnet_id": subnet, "ip_address": ip}],
            "security_groups": list(groups), "port_security_enabled": True,
            "allowed_address_pairs": []}


def listing(ports, groups=(), routers=(), fips=()):
    return Listing([NET, EXT], SUBNETS, ports, list(groups), list(routers), list(fips))


def test_dhcp_serves_the_networks_ports_but_its_own():
    top = build(listing([port("vm-01", host="h1"), port("dh-02", owner="network:dhcp",
                                                         ip="10.0.0.2", device="dhcpA-n1")]),
                "dhcpA-", None)
    assert set(top.bridges) == {"n1", "ext"}
    assert top.bridges["ext"].host_cidrs == ("172.24.4.1/24",)
    assert top.dhcp_wanted == {"n1": ("p1", ("s1",))}
    dhcp = top.dhcp["n1"]
    assert dhcp.cidrs == ("10.0.0.2/24", "169.254.169.254/32")
    assert [(h.mac, h.ip) for h in dhcp.hosts] == [("fa:16:3e:00:00:01", "10.0.0.5")]
    assert dhcp.subnets[0].server_ip == "10.0.0.2" and dhcp.mtu == 1450


def test_another_agents_dhcp_port_is_not_ours():
    top = build(listing([port("dh-02", owner="network:dhcp", device="dhcpB-n1")]),
                "dhcpA-", None)
    assert top.dhcp == {} and top.dhcp_ports == {}


def test_bound_ports_of_our_hosts_get_their_groups_rules():
    group = {"id": "g1", "security_group_rules": [
        {"direction": "ingress", "ethertype": "IPv4", "protocol": None,
         "remote_group_id": "g1", "remote_ip_prefix": None,
         "port_range_min": None, "port_range_max": None},
        {"direction": "egress", "ethertype": "IPv6", "protocol": None,
         "remote_group_id": None, "remote_ip_prefix": None,
         "port_range_min": None, "port_range_max": None}]}
    ports = [port("vm-01", host="h1", groups=["g1"]),
             port("vm-02", host="h2", ip="10.0.0.6", groups=["g1"]),
             port("vm-03", ip="10.0.0.7")]
    top = build(listing(ports, [group]), "dhcpA-", {"h1"})
    assert list(top.ports) == ["vm-01"]
    rules = top.ports["vm-01"].filter.rules
    assert len(rules) == 1 and rules[0].remote_group == "g1"
    assert top.members == {"g1": ("10.0.0.5", "10.0.0.6")}


def test_a_router_with_a_gateway_an_interface_and_a_floating_ip():
    ports = [port("rt-01", owner="network:router_interface", ip="10.0.0.1", device="r1"),
             port("gw-02", owner="network:router_gateway", ip="172.24.4.10", device="r1",
                  net="ext", subnet="se")]
    router = {"id": "r1", "external_gateway_info": {
        "network_id": "ext", "enable_snat": True,
        "external_fixed_ips": [{"subnet_id": "se", "ip_address": "172.24.4.10"}]}}
    fip = {"router_id": "r1", "port_id": "vm-01", "fixed_ip_address": "10.0.0.5",
           "floating_ip_address": "172.24.4.20"}
    r = build(listing(ports, routers=[router], fips=[fip]), "dhcpA-", None).routers["r1"]
    assert [leg.cidrs for leg in r.interfaces] == [("10.0.0.1/24",)]
    assert r.gateway.cidrs == ("172.24.4.10/24",) and r.gateway_ip == "172.24.4.1"
    assert r.floating == (("172.24.4.20", "10.0.0.5"),)
