"""Neutron's named errors: each is a core.exceptions error whose `neutron_type`
is the name Neutron puts in {"NeutronError": {"type": ...}}."""

from __future__ import annotations

from pocketstack.core import exceptions as exc

_LABELS = {
    "network": ("Network", "NetworkNotFound", "could not be found"),
    "subnet": ("Subnet", "SubnetNotFound", "could not be found"),
    "port": ("Port", "PortNotFound", "could not be found"),
    "router": ("Router", "RouterNotFound", "could not be found"),
    "floatingip": ("Floating IP", "FloatingIPNotFound", "could not be found"),
    "security_group": ("Security group", "SecurityGroupNotFound", "does not exist"),
    "security_group_rule": ("Security group rule", "SecurityGroupRuleNotFound",
                            "does not exist"),
    "subnetpool": ("Subnet pool", "SubnetPoolNotFound", "could not be found"),
}


def named(base: type[exc.PocketstackError], kind: str, message: str) -> exc.PocketstackError:
    err = base(message)
    err.neutron_type = kind
    return err


def not_found(resource: str, id_: str) -> exc.PocketstackError:
    label, kind, verb = _LABELS[resource]
    return named(exc.NotFound, kind, f"{label} {id_} {verb}.")


def bad_request(message: str) -> exc.PocketstackError:
    return named(exc.BadRequest, "HTTPBadRequest", message)


def invalid_input(message: str) -> exc.PocketstackError:
    return named(exc.BadRequest, "InvalidInput", f"Invalid input for operation: {message}")


def conflict(kind: str, message: str) -> exc.PocketstackError:
    return named(exc.Conflict, kind, message)


def policy(action: str) -> exc.PocketstackError:
    return named(exc.Forbidden, "PolicyNotAuthorized",
                 f"({action}) is disallowed by policy")


def IpAddressGenerationFailure(net_id: str) -> exc.PocketstackError:  # noqa: N802
    return conflict("IpAddressGenerationFailure",
                    f"No more IP addresses available on network {net_id}.")


def IpAddressAlreadyAllocated(ip: str, subnet_id: str) -> exc.PocketstackError:  # noqa: N802
    return conflict("IpAddressAlreadyAllocated",
                    f"IP address {ip} already allocated in subnet {subnet_id}")


def InvalidIpForSubnet(ip: str) -> exc.PocketstackError:  # noqa: N802
    return named(exc.BadRequest, "InvalidIpForSubnet",
                 f"IP address {ip} is not a valid IP for the specified subnet.")


def over_quota(resource: str) -> exc.PocketstackError:
    err = exc.OverQuota(f"Quota exceeded for resources: ['{resource}'].", status=409)
    err.neutron_type = "OverQuota"
    return err
