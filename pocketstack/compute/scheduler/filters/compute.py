"""Hosts whose compute service is enabled and up (heartbeat within service_down_time)."""

from pocketstack.compute.scheduler.filters.base import PASS, Verdict, fail


class ComputeFilter:
    name = "compute"

    def __init__(self, states):  # noqa: ANN001
        self.states = states

    def check(self, spec, host) -> Verdict:  # noqa: ANN001
        if host.disabled:
            return fail("compute service is disabled")
        if not self.states.is_up(host):
            return fail("compute service is down")
        return PASS
