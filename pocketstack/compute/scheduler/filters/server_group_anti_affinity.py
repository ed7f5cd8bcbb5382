"""For a server group with the anti-affinity policy: hosts with fewer than
`max_server_per_host` (default 1) of its members."""

from pocketstack.compute.scheduler.filters.base import PASS, Verdict, fail


class ServerGroupAntiAffinityFilter:
    name = "server_group_anti_affinity"

    def __init__(self, states):  # noqa: ANN001
        self.states = states

    def active(self, spec) -> bool:  # noqa: ANN001
        return spec.group is not None and spec.group.policy == "anti-affinity"

    def check(self, spec, host) -> Verdict:  # noqa: ANN001
        group = spec.group
        if group is None or group.policy != "anti-affinity":
            return PASS
        limit = int(group.rules.get("max_server_per_host", 1))
        here = sum(1 for m in group.members if m in host.instances)
        if here >= limit:
            return fail(f"already has {here} member(s) of anti-affinity group {group.id}")
        return PASS
