"""The `same_host` scheduler hint: a host running one of the named instances."""

from pocketstack.compute.scheduler.filters.base import PASS, Verdict, fail


def hinted(spec, key: str) -> list[str]:  # noqa: ANN001
    value = spec.hints.get(key) or []
    return [value] if isinstance(value, str) else list(value)


class SameHostFilter:
    name = "same_host"

    def __init__(self, states):  # noqa: ANN001
        pass

    def active(self, spec) -> bool:  # noqa: ANN001
        return bool(hinted(spec, "same_host"))

    def check(self, spec, host) -> Verdict:  # noqa: ANN001
        wanted = hinted(spec, "same_host")
        if wanted and not any(i in host.instances for i in wanted):
            return fail("runs none of the same_host instances")
        return PASS
