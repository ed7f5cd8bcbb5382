"""For a server group with the affinity policy: the host its members are on."""

from pocketstack.compute.scheduler.filters.base import PASS, Verdict, fail


class ServerGroupAffinityFilter:
    name = "server_group_affinity"

    def __init__(self, states):  # noqa: ANN001
        self.states = states

    def active(self, spec) -> bool:  # noqa: ANN001
        return spec.group is not None and spec.group.policy == "affinity"

    def check(self, spec, host) -> Verdict:  # noqa: ANN001
        group = spec.group
        if group is None or group.policy != "affinity":
            return PASS
        hosts = self.states.hosts_of(group.members)
        if hosts and host.host not in hosts:
            return fail(f"server group {group.id} (affinity) is on {', '.join(sorted(hosts))}")
        return PASS
