"""More free vCPUs weigh more."""


class VcpuWeigher:
    name = "vcpu"

    def weigh(self, spec, host) -> float:  # noqa: ANN001
        return host.free_vcpus
