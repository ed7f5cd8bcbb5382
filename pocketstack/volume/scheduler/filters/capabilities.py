"""Only hosts whose capabilities match the volume type's extra specs
(`volume_backend_name`, or any `capabilities:<name>`); scoped keys of other
services (`qos:`, `aggregate_instance_extra_specs:`...) are not ours."""

from pocketstack.volume.messages import ScheduleRequest
from pocketstack.volume.scheduler.filters import PASS, Result
from pocketstack.volume.scheduler.host_state import HostState


def _matches(wanted: str, actual: object) -> bool:
    text = str(actual).lower() if isinstance(actual, bool) else str(actual)
    if wanted.startswith("<is> "):
        return wanted[5:].strip().lower() == text.lower()
    if wanted.startswith("<in> "):
        return wanted[5:].strip() in text
    return wanted == text


class CapabilitiesFilter:
    name = "CapabilitiesFilter"

    def __call__(self, request: ScheduleRequest, host: HostState) -> Result:
        caps = host.report.capabilities
        for key, wanted in request.volume_type.extra_specs.items():
            scope, sep, name = key.partition(":")
            if sep and scope != "capabilities":
                continue
            name = name if sep else key
            if name not in caps:
                if sep or name == "volume_backend_name":
                    return Result(False, f"has no capability {name!r}")
                continue
            if not _matches(wanted, caps[name]):
                return Result(False, f"{name} is {caps[name]!r}, type wants {wanted!r}")
        return PASS
