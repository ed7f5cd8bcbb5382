"""Request bodies of the Networking API v2.0: what each create and update accepts.

Unknown attributes are refused (400), as Neutron does; a field left out is
different from a field sent as null (`fields_set`). Attribute names with a
colon (`router:external`, `binding:host_id`) are aliases.
"""

from __future__ import annotations

from typing import Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from pocketstack.core.web import describe_validation
from pocketstack.network import errors

Name = Field(None, max_length=255)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    project_id: str | None = Field(None, max_length=255)
    tenant_id: str | None = Field(None, max_length=255)
    description: str | None = Field(None, max_length=255)

    def given(self) -> dict[str, Any]:
        """The fields the client sent, by attribute name."""
        return self.model_dump(include=self.model_fields_set)

    def owner(self, default: str | None) -> str | None:
        return self.project_id or self.tenant_id or default


def parse(model: type[BaseModel], body: Any, key: str) -> Any:
    """The `key` member of a request body, validated as `model` (400 when wrong)."""
    if not isinstance(body, dict) or not isinstance(body.get(key), dict):
        raise errors.bad_request(f"Resource body required: expected a '{key}' object.")
    try:
        return model.model_validate(body[key])
    except pydantic.ValidationError as err:
        unknown = [str(e["loc"][0]) for e in err.errors() if e["type"] == "extra_forbidden"]
        if unknown:
            raise errors.bad_request(
                f"Unrecognized attribute(s) '{', '.join(unknown)}'") from None
        raise errors.bad_request(describe_validation(err.errors())) from None


class NetworkCreate(Body):
    name: str | None = Name
    admin_state_up: bool | None = None
    shared: bool | None = None
    external: bool | None = Field(None, alias="router:external")
    mtu: int | None = Field(None, ge=68, le=65535)
    port_security_enabled: bool | None = None
    availability_zone_hints: list[str] | None = None
    network_type: Literal["flat", "vlan", "vxlan", "local"] | None = Field(
        None, alias="provider:network_type")
    physical_network: str | None = Field(None, alias="provider:physical_network",
                                         max_length=64)
    segmentation_id: int | None = Field(None, alias="provider:segmentation_id", ge=1)
    dns_domain: str | None = None
    is_default: bool | None = None


class NetworkUpdate(Body):
    name: str | None = Name
    admin_state_up: bool | None = None
    shared: bool | None = None
    external: bool | None = Field(None, alias="router:external")
    mtu: int | None = Field(None, ge=68, le=65535)
    port_security_enabled: bool | None = None
    dns_domain: str | None = None
    is_default: bool | None = None


class Pool(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: str
    end: str


class HostRoute(BaseModel):
    model_config = ConfigDict(extra="forbid")
    destination: str
    nexthop: str


IPv6Mode = Literal["slaac", "dhcpv6-stateful", "dhcpv6-stateless"]


class SubnetCreate(Body):
    name: str | None = Name
    network_id: str
    ip_version: Literal[4, 6] = 4
    cidr: str | None = None
    gateway_ip: str | None = None
    allocation_pools: list[Pool] | None = None
    enable_dhcp: bool | None = None
    dns_nameservers: list[str] | None = None
    host_routes: list[HostRoute] | None = None
    ipv6_ra_mode: IPv6Mode | None = None
    ipv6_address_mode: IPv6Mode | None = None
    subnetpool_id: str | None = None
    prefixlen: int | None = Field(None, ge=0, le=128)
    use_default_subnetpool: bool | None = None
    segment_id: str | None = None
    service_types: list[str] | None = None
    dns_publish_fixed_ip: bool | None = None


class SubnetUpdate(Body):
    name: str | None = Name
    gateway_ip: str | None = None
    allocation_pools: list[Pool] | None = None
    enable_dhcp: bool | None = None
    dns_nameservers: list[str] | None = None
    host_routes: list[HostRoute] | None = None
    segment_id: str | None = None
    service_types: list[str] | None = None
    dns_publish_fixed_ip: bool | None = None


class FixedIP(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subnet_id: str | None = None
    ip_address: str | None = None


class AddressPair(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ip_address: str
    mac_address: str | None = None


class PortCommon(Body):
    name: str | None = Name
    admin_state_up: bool | None = None
    fixed_ips: list[FixedIP] | None = None
    device_id: str | None = Field(None, max_length=255)
    device_owner: str | None = Field(None, max_length=255)
    host_id: str | None = Field(None, alias="binding:host_id", max_length=255)
    vnic_type: Literal["normal", "direct", "macvtap", "baremetal", "direct-physical",
                       "virtio-forwarder", "smart-nic", "remote-managed"] | None = Field(
        None, alias="binding:vnic_type")
    binding_profile: dict[str, Any] | None = Field(None, alias="binding:profile")
    security_groups: list[str] | None = None
    allowed_address_pairs: list[AddressPair] | None = None
    port_security_enabled: bool | None = None
    extra_dhcp_opts: list[dict[str, Any]] | None = None
    dns_name: str | None = None
    propagate_uplink_status: bool | None = None


class PortCreate(PortCommon):
    network_id: str
    mac_address: str | None = None
    tags: list[str] | None = None


class PortUpdate(PortCommon):
    mac_address: str | None = None


class SecurityGroupCreate(Body):
    name: str | None = Name
    stateful: bool | None = None


class SecurityGroupUpdate(Body):
    name: str | None = Name
    stateful: bool | None = None


class RuleCreate(Body):
    security_group_id: str
    direction: Literal["ingress", "egress"]
    ethertype: Literal["IPv4", "IPv6"] = "IPv4"
    protocol: str | int | None = None
    port_range_min: int | None = Field(None, ge=0, le=65535)
    port_range_max: int | None = Field(None, ge=0, le=65535)
    remote_ip_prefix: str | None = None
    remote_group_id: str | None = None
    remote_address_group_id: None = None


class ExternalFixedIP(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subnet_id: str | None = None
    ip_address: str | None = None


class GatewayInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")
    network_id: str | None = None
    enable_snat: bool | None = None
    external_fixed_ips: list[ExternalFixedIP] | None = None
    qos_policy_id: str | None = None


class RouterCommon(Body):
    name: str | None = Name
    admin_state_up: bool | None = None
    external_gateway_info: GatewayInfo | None = None


class RouterCreate(RouterCommon):
    availability_zone_hints: list[str] | None = None
    distributed: Literal[False] | None = None
    ha: Literal[False] | None = None
    flavor_id: None = None


class RouterUpdate(RouterCommon):
    routes: list[HostRoute] | None = None


class InterfaceBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subnet_id: str | None = None
    port_id: str | None = None


class FloatingIPCreate(Body):
    floating_network_id: str
    floating_ip_address: str | None = None
    subnet_id: str | None = None
    port_id: str | None = None
    fixed_ip_address: str | None = None
    dns_name: str | None = None
    dns_domain: str | None = None
    qos_policy_id: None = None


class FloatingIPUpdate(Body):
    port_id: str | None = None
    fixed_ip_address: str | None = None
    qos_policy_id: None = None


class SubnetPoolCreate(Body):
    name: str | None = Name
    prefixes: list[str] = Field(min_length=1)
    default_prefixlen: int | None = Field(None, ge=0, le=128)
    min_prefixlen: int | None = Field(None, ge=0, le=128)
    max_prefixlen: int | None = Field(None, ge=0, le=128)
    shared: bool | None = None
    is_default: bool | None = None
    default_quota: int | None = None
    address_scope_id: str | None = None


class SubnetPoolUpdate(Body):
    name: str | None = Name
    prefixes: list[str] | None = None
    default_prefixlen: int | None = Field(None, ge=0, le=128)
    min_prefixlen: int | None = Field(None, ge=0, le=128)
    max_prefixlen: int | None = Field(None, ge=0, le=128)
    is_default: bool | None = None
    default_quota: int | None = None
