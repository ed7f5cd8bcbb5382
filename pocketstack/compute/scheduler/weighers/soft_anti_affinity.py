"""Soft-anti-affinity server groups: prefer hosts with fewer of the group's members."""

from pocketstack.compute.scheduler.weighers.soft_affinity import members_here


class SoftAntiAffinityWeigher:
    name = "soft_anti_affinity"

    def weigh(self, spec, host) -> float:  # noqa: ANN001
        if spec.group is None or spec.group.policy != "soft-anti-affinity":
            return 0.0
        return -members_here(spec, host)
