"""Security groups as iptables rules on the guests' taps, in the root namespace.

Why iptables with `physdev`: this kernel has br_netfilter
(/proc/sys/net/bridge/bridge-nf-call-iptables is 1), so bridged IPv4 frames
pass the iptables FORWARD chain, where `-m physdev --physdev-in/--physdev-out
tapX` names the guest's tap and conntrack makes the groups stateful, as
Neutron's iptables firewall driver does. The nftables bridge family would
avoid br_netfilter, but there is no `nft` tool here and ebtables has no
conntrack. The rules are applied with `iptables-restore --noflush`, one
transaction per change, touching only this agent's chains.

Layout (filter table): FORWARD and INPUT jump to the agent's chain
`ps-<agent>`, which sends traffic to a tap to `psi-<port>` (ingress) and from
a tap to `pso-<port>` (anti-spoofing: the port's MAC and addresses, and
allowed address pairs) then `pss-<port>` (egress rules). A chain RETURNs what
it allows and drops the rest. Ingress from a remote group (the default
group's "from my members") goes through the group's `psm-<group>` chain,
which sets packet mark bit 0x40000000 for its members' addresses: one rule
per member per group, not per member per port (there is no ipset here).
DHCP to and from the guest is always allowed; what the default group's
egress rules allow includes the metadata address.
IPv4 only: IPv6 rules are not rendered and IPv6 is not filtered.
"""

from __future__ import annotations

from dataclasses import dataclass

from pocketstack.network.agent.linuxbridge import ip
from pocketstack.network.agent.linuxbridge.ip import tap_name

HOOKS = ("FORWARD", "INPUT")
MEMBER = "0x40000000"  # the packet mark bit: "from a member of the group being checked"
PORT_PROTOCOLS = {"tcp", "udp", "sctp", "udplite", "dccp", "6", "17", "132", "136", "33"}
ICMP = {"icmp", "1"}


@dataclass(frozen=True)
class Rule:
    direction: str  # ingress | egress
    protocol: str | None = None
    port_min: int | None = None
    port_max: int | None = None
    remote_ip_prefix: str | None = None
    remote_ips: tuple[str, ...] | None = None  # a remote group's members; None: no group
    remote_group: str | None = None  # ingress from a group's members, by its member chain


@dataclass(frozen=True)
class PortFilter:
    port_id: str
    mac: str
    addresses: tuple[tuple[str, str], ...]  # (ip or cidr, mac): fixed IPs and address pairs
    rules: tuple[Rule, ...]


def agent_chain(agent_id: str) -> str:
    return "ps-" + agent_id[:12]


def port_chains(port_id: str) -> tuple[str, str, str]:
    """(ingress, anti-spoofing, egress) chain names of a port."""
    short = port_id[:11]
    return f"psi-{short}", f"pso-{short}", f"pss-{short}"


def group_chain(group_id: str) -> str:
    """The chain that marks packets from a security group's members."""
    return "psm-" + group_id[:11]


def render(agent_id: str, ports: list[PortFilter], members: dict[str, tuple[str, ...]] = {},  # noqa: B006
           removed: list[str] = (), removed_groups: list[str] = ()) -> str:
    """An iptables-restore --noflush document: the agent chain's jumps for
    `ports` (all the agent's ports), their chains and the member chains of
    the groups in `members` rewritten, `removed` ports' and groups' chains
    deleted."""
    chain = agent_chain(agent_id)
    lines = ["*filter", f":{chain} - [0:0]"]
    for gid, ips in sorted(members.items()):
        lines.append(f":{group_chain(gid)} - [0:0]")
        lines += [f"-A {group_chain(gid)} -s {a} -j MARK --set-xmark {MEMBER}/{MEMBER}"
                  for a in ips if ":" not in a]
    for p in ports:
        lines += [f":{c} - [0:0]" for c in port_chains(p.port_id)]
    for p in ports:
        i, o, _ = port_chains(p.port_id)
        tap = tap_name(p.port_id)
        lines.append(f"-A {chain} -m physdev --physdev-out {tap} --physdev-is-bridged -j {i}")
        lines.append(f"-A {chain} -m physdev --physdev-in {tap} -j {o}")
    for p in ports:
        lines += _port_rules(p)
    for port_id in removed:
        lines += [f"-F {c}" for c in port_chains(port_id)]
        lines += [f"-X {c}" for c in port_chains(port_id)]
    lines += [f"-F {group_chain(g)}" for g in removed_groups]
    lines += [f"-X {group_chain(g)}" for g in removed_groups]
    lines.append("COMMIT")
    return "\n".join(lines) + "\n"


def _port_rules(p: PortFilter) -> list[str]:
    i, o, s = port_chains(p.port_id)
    stateful = ["-m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
                "-m conntrack --ctstate INVALID -j DROP"]
    out = [f"-A {i} {r}" for r in stateful]
    out.append(f"-A {i} -p udp -m udp --sport 67 --dport 68 -j RETURN")
    ingress = [r for r in p.rules if r.direction == "ingress"]
    out += [_rule(i, m, "RETURN") for r in ingress if r.remote_group is None
            for m in matches(r)]
    for gid in dict.fromkeys(r.remote_group for r in ingress if r.remote_group):
        out.append(f"-A {i} -j MARK --set-xmark 0x0/{MEMBER}")
        out.append(f"-A {i} -j {group_chain(gid)}")
        out += [_rule(i, " ".join(filter(None, [f"-m mark --mark {MEMBER}/{MEMBER}",
                                                 _protocol(r)])), "RETURN")
                for r in ingress if r.remote_group == gid]
    out.append(f"-A {i} -j DROP")
    out.append(f"-A {o} -p udp -m udp --sport 68 --dport 67 -j RETURN")
    for addr, mac in p.addresses:
        if ":" not in addr:
            out.append(f"-A {o} -s {addr} -m mac --mac-source {mac} -g {s}")
    out.append(f"-A {o} -j DROP")
    out += [f"-A {s} {r}" for r in stateful]
    out += [_rule(s, m, "RETURN") for r in p.rules if r.direction == "egress"
            for m in matches(r)]
    out.append(f"-A {s} -j DROP")
    return out


def _rule(chain: str, match: str, target: str) -> str:
    return " ".join(filter(None, ["-A", chain, match, "-j", target]))


def matches(r: Rule) -> list[str]:
    """The iptables matches of one rule (none, one, or one per remote member)."""
    proto = _protocol(r)
    flag = "-s" if r.direction == "ingress" else "-d"
    if r.remote_ips is not None:
        return [" ".join(filter(None, [f"{flag} {a}", proto])) for a in r.remote_ips
                if ":" not in a]
    if r.remote_ip_prefix and ":" in r.remote_ip_prefix:
        return []
    remote = f"{flag} {r.remote_ip_prefix}" if r.remote_ip_prefix not in (None, "0.0.0.0/0") \
        else ""
    return [" ".join(filter(None, [remote, proto]))]


def _protocol(r: Rule) -> str:
    if r.protocol is None:
        return ""
    name = r.protocol.lower()
    if name in ICMP:
        if r.port_min is None:
            return "-p icmp"
        code = f"/{r.port_max}" if r.port_max is not None else ""
        return f"-p icmp -m icmp --icmp-type {r.port_min}{code}"
    if name in PORT_PROTOCOLS and r.port_min is not None:
        span = str(r.port_min) if r.port_max in (None, r.port_min) else \
            f"{r.port_min}:{r.port_max}"
        return f"-p {name} -m {name} --dport {span}" if not name.isdigit() else \
            f"-p {name} -m multiport --dports {span}"
    return f"-p {name}"


class Firewall:
    """The agent's chains in the root namespace."""

    def __init__(self, agent_id: str):
        self.agent_id = agent_id
        self.chain = agent_chain(agent_id)

    async def apply(self, ports: list[PortFilter], members: dict[str, tuple[str, ...]],
                    removed: list[str] = (), removed_groups: list[str] = ()) -> None:
        await self._hook()
        await ip.run("iptables-restore", "-w", "--noflush",
                     stdin=render(self.agent_id, ports, members, removed, removed_groups))

    async def _hook(self) -> None:
        for hook in HOOKS:
            jump = [hook, "-j", self.chain]
            if not await _has(["-C", *jump]):
                await ip.run("iptables-restore", "-w", "--noflush",
                             stdin=f"*filter\n:{self.chain} - [0:0]\nCOMMIT\n")
                await ip.run("iptables", "-w", "-I", *jump)



async def _has(args: list[str]) -> bool:
    return await ip.succeeds("iptables", "-w", *args)


async def remove_chains(chain: str, port_ids: list[str], group_ids: list[str] = ()) -> None:
    """Delete an agent's chains: the hooks, the agent chain, its ports' and groups'."""
    for hook in HOOKS:
        while await _has(["-D", hook, "-j", chain]):
            pass
    chains = [chain] + [c for p in port_ids for c in port_chains(p)] \
        + [group_chain(g) for g in group_ids]
    for c in chains:
        await ip.run("iptables", "-w", "-F", c, check=False)
    for c in chains:
        await ip.run("iptables", "-w", "-X", c, check=False)
