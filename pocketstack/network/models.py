"""The network service's tables. Private to pocketstack.network.

Every API resource carries Neutron's standard attributes (project, description,
timestamps, revision number); tags live in one table keyed by resource id.
IP addresses are stored as text; the IPAM's availability ranges also keep a
fixed-width hex key per bound so that SQL ordering is numeric on every backend.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0, tzinfo=None)


class StandardAttrs:
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), index=True, default="")
    description: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revision_number: Mapped[int] = mapped_column(Integer, default=0)


class Network(StandardAttrs, Base):
    __tablename__ = "networks"
    name: Mapped[str] = mapped_column(String(255), default="", index=True)
    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    external: Mapped[bool] = mapped_column(Boolean, default=False)
    mtu: Mapped[int] = mapped_column(Integer, default=1500)
    port_security_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    availability_zone_hints: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    network_type: Mapped[str] = mapped_column(String(16), default="local")
    physical_network: Mapped[str | None] = mapped_column(String(64), nullable=True)
    segmentation_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # "type:physnet:id" (or "flat:physnet"): unique, so two networks never share a segment.
    segment_key: Mapped[str | None] = mapped_column(String(128), unique=True, nullable=True)

    subnets: Mapped[list[Subnet]] = relationship(
        back_populates="network", lazy="selectin", order_by="Subnet.created_at"
    )


class SubnetPool(StandardAttrs, Base):
    __tablename__ = "subnetpools"
    name: Mapped[str] = mapped_column(String(255), default="")
    ip_version: Mapped[int] = mapped_column(Integer)
    prefixes: Mapped[list] = mapped_column(JSON, default=list)
    default_prefixlen: Mapped[int] = mapped_column(Integer)
    min_prefixlen: Mapped[int] = mapped_column(Integer)
    max_prefixlen: Mapped[int] = mapped_column(Integer)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    default_quota: Mapped[int | None] = mapped_column(Integer, nullable=True)
    address_scope_id: Mapped[str | None] = mapped_column(String(36), nullable=True)


class Subnet(StandardAttrs, Base):
    __tablename__ = "subnets"
    name: Mapped[str] = mapped_column(String(255), default="", index=True)
    network_id: Mapped[str] = mapped_column(ForeignKey("networks.id"), index=True)
    ip_version: Mapped[int] = mapped_column(Integer)
    cidr: Mapped[str] = mapped_column(String(64))
    gateway_ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    allocation_pools: Mapped[list] = mapped_column(JSON, default=list)
    enable_dhcp: Mapped[bool] = mapped_column(Boolean, default=True)
    dns_nameservers: Mapped[list] = mapped_column(JSON, default=list)
    host_routes: Mapped[list] = mapped_column(JSON, default=list)
    ipv6_ra_mode: Mapped[str | None] = mapped_column(String(32), nullable=True)
    ipv6_address_mode: Mapped[str | None] = mapped_column(String(32), nullable=True)
    subnetpool_id: Mapped[str | None] = mapped_column(
        ForeignKey("subnetpools.id"), nullable=True, index=True
    )

    network: Mapped[Network] = relationship(back_populates="subnets", lazy="raise")


class IPRange(Base):
    """A run of free addresses [first, last] in one subnet's allocation pools."""

    __tablename__ = "ip_ranges"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subnet_id: Mapped[str] = mapped_column(ForeignKey("subnets.id", ondelete="CASCADE"))
    first: Mapped[str] = mapped_column(String(32))  # 32 hex digits
    last: Mapped[str] = mapped_column(String(32))
    __table_args__ = (
        UniqueConstraint("subnet_id", "first", name="uq_ip_ranges_first"),
        Index("ix_ip_ranges_last", "subnet_id", "last"),
    )


class Port(StandardAttrs, Base):
    __tablename__ = "ports"
    name: Mapped[str] = mapped_column(String(255), default="")
    network_id: Mapped[str] = mapped_column(ForeignKey("networks.id"), index=True)
    mac_address: Mapped[str] = mapped_column(String(32))
    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="DOWN")
    device_id: Mapped[str] = mapped_column(String(255), default="", index=True)
    device_owner: Mapped[str] = mapped_column(String(255), default="")
    host_id: Mapped[str] = mapped_column(String(255), default="")
    vif_type: Mapped[str] = mapped_column(String(64), default="unbound")
    vif_details: Mapped[dict] = mapped_column(JSON, default=dict)
    vnic_type: Mapped[str] = mapped_column(String(64), default="normal")
    binding_profile: Mapped[dict] = mapped_column(JSON, default=dict)
    port_security_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    allowed_address_pairs: Mapped[list] = mapped_column(JSON, default=list)

    fixed_ips: Mapped[list[IPAllocation]] = relationship(
        lazy="selectin", order_by="IPAllocation.seq", cascade="all, delete-orphan"
    )
    security_group_bindings: Mapped[list[PortSecurityGroup]] = relationship(
        lazy="selectin", cascade="all, delete-orphan"
    )
    __table_args__ = (UniqueConstraint("network_id", "mac_address", name="uq_ports_mac"),)


class IPAllocation(Base):
    __tablename__ = "ip_allocations"
    subnet_id: Mapped[str] = mapped_column(
        ForeignKey("subnets.id"), primary_key=True
    )
    ip_address: Mapped[str] = mapped_column(String(64), primary_key=True)
    port_id: Mapped[str] = mapped_column(
        ForeignKey("ports.id", ondelete="CASCADE"), index=True
    )
    network_id: Mapped[str] = mapped_column(String(36))
    # When it was made (ns): fixed_ips keep the order they were allocated in.
    seq: Mapped[int] = mapped_column(BigInteger, default=time.time_ns)


class SecurityGroup(StandardAttrs, Base):
    __tablename__ = "security_groups"
    name: Mapped[str] = mapped_column(String(255), default="", index=True)
    stateful: Mapped[bool] = mapped_column(Boolean, default=True)
    rules: Mapped[list[SecurityGroupRule]] = relationship(
        lazy="selectin", order_by="SecurityGroupRule.created_at",
        cascade="all, delete-orphan",
    )


class DefaultSecurityGroup(Base):
    """One row per project: its `default` group (the primary key makes creation race-safe)."""

    __tablename__ = "default_security_groups"
    project_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    security_group_id: Mapped[str] = mapped_column(
        ForeignKey("security_groups.id", ondelete="CASCADE")
    )


class SecurityGroupRule(StandardAttrs, Base):
    __tablename__ = "security_group_rules"
    security_group_id: Mapped[str] = mapped_column(
        ForeignKey("security_groups.id", ondelete="CASCADE"), index=True
    )
    direction: Mapped[str] = mapped_column(String(16))
    ethertype: Mapped[str] = mapped_column(String(8))
    protocol: Mapped[str | None] = mapped_column(String(40), nullable=True)
    port_range_min: Mapped[int | None] = mapped_column(Integer, nullable=True)
    port_range_max: Mapped[int | None] = mapped_column(Integer, nullable=True)
    remote_ip_prefix: Mapped[str | None] = mapped_column(String(64), nullable=True)
    remote_group_id: Mapped[str | None] = mapped_column(String(36), nullable=True)


class PortSecurityGroup(Base):
    __tablename__ = "port_security_groups"
    port_id: Mapped[str] = mapped_column(
        ForeignKey("ports.id", ondelete="CASCADE"), primary_key=True
    )
    security_group_id: Mapped[str] = mapped_column(
        ForeignKey("security_groups.id"), primary_key=True, index=True
    )


class Router(StandardAttrs, Base):
    __tablename__ = "routers"
    name: Mapped[str] = mapped_column(String(255), default="", index=True)
    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    gw_port_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    gw_network_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    enable_snat: Mapped[bool] = mapped_column(Boolean, default=True)
    routes: Mapped[list] = mapped_column(JSON, default=list)
    availability_zone_hints: Mapped[list] = mapped_column(JSON, default=list)


class FloatingIP(StandardAttrs, Base):
    __tablename__ = "floatingips"
    floating_network_id: Mapped[str] = mapped_column(ForeignKey("networks.id"), index=True)
    floating_port_id: Mapped[str] = mapped_column(String(36))
    floating_ip_address: Mapped[str] = mapped_column(String(64))
    port_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    fixed_ip_address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    router_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(16), default="DOWN")


class Quota(Base):
    __tablename__ = "quotas"
    project_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    resource: Mapped[str] = mapped_column(String(64), primary_key=True)
    limit: Mapped[int] = mapped_column(Integer)


class Tag(Base):
    __tablename__ = "tags"
    resource_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tag: Mapped[str] = mapped_column(String(255), primary_key=True, index=True)
