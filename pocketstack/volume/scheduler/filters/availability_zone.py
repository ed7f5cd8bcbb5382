"""Only hosts in the requested availability zone."""

from pocketstack.volume.messages import ScheduleRequest
from pocketstack.volume.scheduler.filters import PASS, Result
from pocketstack.volume.scheduler.host_state import HostState


class AvailabilityZoneFilter:
    name = "AvailabilityZoneFilter"

    def __call__(self, request: ScheduleRequest, host: HostState) -> Result:
        zone = request.availability_zone
        if zone is None or zone == host.report.availability_zone:
            return PASS
        return Result(False, f"in zone {host.report.availability_zone}, not {zone}")
