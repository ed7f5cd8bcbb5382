"""Only hosts with room for the volume: physical free space for thick
backends, over-subscribed virtual space for thin ones."""

from pocketstack.volume.messages import ScheduleRequest
from pocketstack.volume.scheduler.filters import PASS, Result
from pocketstack.volume.scheduler.host_state import HostState


class CapacityFilter:
    name = "CapacityFilter"

    def __call__(self, request: ScheduleRequest, host: HostState) -> Result:
        if host.report.thin:
            if host.free_gb <= 0:
                return Result(False, "no physical space left")
            room = host.virtual_free_gb
            kind = f"virtual (thin, ratio {host.report.max_over_subscription_ratio:g})"
        else:
            room, kind = host.free_gb, "free"
        if room >= request.size:
            return PASS
        return Result(False, f"{room:.1f}GB {kind} left, {request.size}GB requested")
