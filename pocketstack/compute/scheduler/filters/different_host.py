"""The `different_host` scheduler hint: a host running none of the named instances."""

from pocketstack.compute.scheduler.filters.base import PASS, Verdict, fail
from pocketstack.compute.scheduler.filters.same_host import hinted


class DifferentHostFilter:
    name = "different_host"

    def __init__(self, states):  # noqa: ANN001
        pass

    def active(self, spec) -> bool:  # noqa: ANN001
        return bool(hinted(spec, "different_host"))

    def check(self, spec, host) -> Verdict:  # noqa: ANN001
        if any(i in host.instances for i in hinted(spec, "different_host")):
            return fail("runs one of the different_host instances")
        return PASS
