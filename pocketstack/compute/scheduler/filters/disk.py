"""Hosts with the disk the request needs free (root unless booting from a volume,
plus ephemeral and swap; total x disk_allocation_ratio - used)."""

from pocketstack.compute.scheduler.filters.base import PASS, Verdict, fail


class DiskFilter:
    name = "disk"

    def __init__(self, states):  # noqa: ANN001
        pass

    def check(self, spec, host) -> Verdict:  # noqa: ANN001
        needed = spec.resources().get("DISK_GB", 0)
        if needed > host.free_disk_gb:
            return fail(f"{host.free_disk_gb:.0f} GB disk free, {needed} GB needed")
        return PASS
