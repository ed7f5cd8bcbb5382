"""Prefer the host with the most space left to provision (spreads volumes)."""

from pocketstack.volume.messages import ScheduleRequest
from pocketstack.volume.scheduler.host_state import HostState


class CapacityWeigher:
    name = "CapacityWeigher"
    multiplier = 1.0

    def __call__(self, request: ScheduleRequest, host: HostState) -> float:
        return host.virtual_free_gb
