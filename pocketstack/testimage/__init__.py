"""The pocketstack test VM: a small self-booting image built from Debian packages.

Used wherever a real guest is needed (the libvirt driver's tests and its KVM
probe, `pocketstack up` with real VMs, network and volume end-to-end tests),
so it lives here rather than under one service. `ensure_built(cache_dir)`
gives the qcow2 disk and the kernel and initrd for direct kernel boot.
"""

from pocketstack.testimage.build import TestImage, ensure_built

MARKER = "POCKETSTACK-TESTVM-UP"

__all__ = ["MARKER", "TestImage", "ensure_built"]
