"""dnsmasq's files and command line, rendered from a network's DHCP settings."""

from pathlib import Path

from pocketstack.network.agent.linuxbridge import dnsmasq
from pocketstack.network.agent.linuxbridge.dnsmasq import DhcpHost, DhcpSubnet

SUBNET = DhcpSubnet(id="s1", cidr="10.0.0.0/26", gateway_ip="10.0.0.1",
                    dns_nameservers=("192.0.2.53", "192.0.2.54"),
                    host_routes=(("10.9.0.0/16", "10.0.0.9"),), server_ip="10.0.0.2")


def test_hosts_are_static_leases_by_mac():
    text = dnsmasq.render_hosts([DhcpHost("fa:16:3e:00:00:02", "10.0.0.5"),
                                 DhcpHost("fa:16:3e:00:00:01", "10.0.0.4")])
    assert text == ("fa:16:3e:00:00:01,host-10-0-0-4,10.0.0.4\n"
                    "fa:16:3e:00:00:02,host-10-0-0-5,10.0.0.5\n")


def test_options_carry_router_dns_mtu_and_the_metadata_route():
    lines = dnsmasq.render_opts([SUBNET], mtu=1450).splitlines()
    routes = "169.254.169.254/32,10.0.0.2,10.9.0.0/16,10.0.0.9,0.0.0.0/0,10.0.0.1"
    assert lines == [
        "tag:subnet-s1,option:router,10.0.0.1",
        "tag:subnet-s1,option:dns-server,192.0.2.53,192.0.2.54",
        "tag:subnet-s1,option:mtu,1450",
        f"tag:subnet-s1,option:classless-static-route,{routes}",
        f"tag:subnet-s1,249,{routes}",
    ]


def test_no_gateway_means_no_router_and_no_default_route():
    bare = DhcpSubnet(id="s2", cidr="10.1.0.0/24", server_ip="10.1.0.2")
    lines = dnsmasq.render_opts([bare]).splitlines()
    assert "tag:subnet-s2,option:router" in lines  # empty: dnsmasq offers no router
    assert "tag:subnet-s2,option:dns-server" in lines
    assert "tag:subnet-s2,option:classless-static-route,169.254.169.254/32,10.1.0.2" in lines


def test_command_line_serves_static_ranges_only_on_its_interface(tmp_path: Path):
    argv = dnsmasq.argv(tmp_path, "ns-abc", [SUBNET], netns="qdhcp-n1")
    assert argv[:4] == ["ip", "netns", "exec", "qdhcp-n1"]
    assert "--interface=ns-abc" in argv and "--user=root" in argv and "--port=0" in argv
    assert "--dhcp-range=set:subnet-s1,10.0.0.0,static,255.255.255.192,86400s" in argv
    assert f"--dhcp-hostsfile={tmp_path / 'hosts'}" in argv
    assert f"--dhcp-optsfile={tmp_path / 'opts'}" in argv
