"""Only the required host, when the request names one (clones and volumes
from snapshots stay on their source's backend)."""

from pocketstack.volume.messages import ScheduleRequest, backend_host
from pocketstack.volume.scheduler.filters import PASS, Result
from pocketstack.volume.scheduler.host_state import HostState


class HostFilter:
    name = "HostFilter"

    def __call__(self, request: ScheduleRequest, host: HostState) -> Result:
        if request.host is None or backend_host(request.host) == host.host:
            return PASS
        return Result(False, f"the source is on {backend_host(request.host)}")
