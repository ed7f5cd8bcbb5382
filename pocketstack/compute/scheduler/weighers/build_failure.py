"""Hosts whose recent builds failed weigh less (reset by a successful build)."""


class BuildFailureWeigher:
    name = "build_failure"

    def weigh(self, spec, host) -> float:  # noqa: ANN001
        return -host.failed_builds
