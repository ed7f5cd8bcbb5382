"""The linuxbridge agent: a host's data plane from Linux bridges, namespaces,
dnsmasq and iptables. agent.py ties it together (read it first); topology.py
is what the host should look like; ip.py, dnsmasq.py, dhcp.py, firewall.py and
router.py make it so; netns.py makes sockets inside namespaces; registry.py
and process.py make sure nothing outlives the agent that made it."""
