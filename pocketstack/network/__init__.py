"""The network service: Neutron's Networking API v2.0 (steps 22-24 of a launch)."""
