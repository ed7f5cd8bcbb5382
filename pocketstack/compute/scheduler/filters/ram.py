"""Hosts with the flavor's RAM free (total x ram_allocation_ratio - used)."""

from pocketstack.compute.scheduler.filters.base import PASS, Verdict, fail


class RamFilter:
    name = "ram"

    def __init__(self, states):  # noqa: ANN001
        pass

    def check(self, spec, host) -> Verdict:  # noqa: ANN001
        if spec.flavor.ram > host.free_ram_mb:
            return fail(f"{host.free_ram_mb:.0f} MB RAM free, {spec.flavor.ram} MB needed")
        return PASS
