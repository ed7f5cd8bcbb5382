"""Hosts in the availability zone the request names (its aggregates' zone, or the default)."""

from pocketstack.compute.scheduler.filters.base import PASS, Verdict, fail


class AvailabilityZoneFilter:
    name = "availability_zone"

    def __init__(self, states):  # noqa: ANN001
        pass

    def active(self, spec) -> bool:  # noqa: ANN001
        return bool(spec.availability_zone)

    def check(self, spec, host) -> Verdict:  # noqa: ANN001
        if spec.availability_zone and host.availability_zone != spec.availability_zone:
            return fail(f"in zone {host.availability_zone}, not {spec.availability_zone}")
        return PASS
