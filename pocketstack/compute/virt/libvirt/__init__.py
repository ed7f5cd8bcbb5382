"""The libvirt hypervisor driver: real guests under qemu (TCG) or KVM.

domain.py builds the domain XML, daemon.py runs a libvirtd where none is.
"""
