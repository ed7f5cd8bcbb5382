"""Hosts with the flavor's vCPUs free (total x cpu_allocation_ratio - used)."""

from pocketstack.compute.scheduler.filters.base import PASS, Verdict, fail


class VcpuFilter:
    name = "vcpu"

    def __init__(self, states):  # noqa: ANN001
        pass

    def check(self, spec, host) -> Verdict:  # noqa: ANN001
        if spec.flavor.vcpus > host.free_vcpus:
            return fail(f"{host.free_vcpus:.0f} vCPUs free, {spec.flavor.vcpus} needed")
        return PASS
