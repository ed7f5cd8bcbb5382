"""More free disk weighs more."""


class DiskWeigher:
    name = "disk"

    def weigh(self, spec, host) -> float:  # noqa: ANN001
        return host.free_disk_gb
