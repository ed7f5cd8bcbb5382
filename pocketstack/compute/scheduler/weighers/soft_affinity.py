"""Soft-affinity server groups: prefer hosts with more of the group's members."""


def members_here(spec, host) -> int:  # noqa: ANN001
    return sum(1 for m in spec.group.members if m in host.instances)


class SoftAffinityWeigher:
    name = "soft_affinity"

    def weigh(self, spec, host) -> float:  # noqa: ANN001
        if spec.group is None or spec.group.policy != "soft-affinity":
            return 0.0
        return members_here(spec, host)
