"""Hosts whose architecture and hypervisor type match the image's properties
(`hw_architecture` or `architecture`, `img_hv_type` or `hypervisor_type`)."""

from pocketstack.compute.scheduler.filters.base import PASS, Verdict, fail

ARCH_ALIASES = {"amd64": "x86_64", "x64": "x86_64", "arm64": "aarch64", "i686": "i686"}


class ImagePropertiesFilter:
    name = "image_properties"

    def __init__(self, states):  # noqa: ANN001
        pass

    def active(self, spec) -> bool:  # noqa: ANN001
        return any(spec.image.get(k) for k in (
            "hw_architecture", "architecture", "img_hv_type", "hypervisor_type"))

    def check(self, spec, host) -> Verdict:  # noqa: ANN001
        arch = spec.image.get("hw_architecture") or spec.image.get("architecture")
        if arch:
            arch = ARCH_ALIASES.get(str(arch).lower(), str(arch).lower())
            if arch != host.cpu_arch:
                return fail(f"architecture {host.cpu_arch}, image needs {arch}")
        hv = spec.image.get("img_hv_type") or spec.image.get("hypervisor_type")
        if hv and str(hv).lower() not in (host.hypervisor_type, "qemu" if
                                          host.hypervisor_type == "kvm" else ""):
            return fail(f"hypervisor {host.hypervisor_type}, image needs {hv}")
        return PASS
