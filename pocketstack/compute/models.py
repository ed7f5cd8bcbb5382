"""The compute database: instances and what hangs off them, flavors, keypairs,
server groups, quotas, compute services and nodes, and the trace spans.

Private to compute: the api, scheduler and conductor use it through store.py;
compute agents never touch it (they ask the conductor).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from pocketstack.core.service_records import ServiceRecordMixin


class Base(DeclarativeBase):
    pass


def _now() -> datetime:
    return datetime.utcnow().replace(microsecond=0)


class Instance(Base):
    __tablename__ = "instances"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    hostname: Mapped[str] = mapped_column(String(255), default="")
    vm_state: Mapped[str] = mapped_column(String(32), default="building")
    task_state: Mapped[str | None] = mapped_column(String(32), default="scheduling")
    power_state: Mapped[int] = mapped_column(Integer, default=0)
    host: Mapped[str | None] = mapped_column(String(255), default=None, index=True)
    node: Mapped[str | None] = mapped_column(String(255), default=None)
    availability_zone: Mapped[str | None] = mapped_column(String(255), default=None)
    flavor_id: Mapped[str] = mapped_column(String(255))
    flavor: Mapped[dict] = mapped_column(JSON)  # the flavor as it was at boot
    vcpus: Mapped[int] = mapped_column(Integer, default=0)  # the flavor's, for quota sums
    memory_mb: Mapped[int] = mapped_column(Integer, default=0)
    image_ref: Mapped[str] = mapped_column(String(36), default="")
    key_name: Mapped[str | None] = mapped_column(String(255), default=None)
    key_data: Mapped[str | None] = mapped_column(Text, default=None)
    user_data: Mapped[str | None] = mapped_column(Text, default=None)
    config_drive: Mapped[str] = mapped_column(String(8), default="")
    metadata_: Mapped[dict] = mapped_column("metadata", JSON, default=dict)
    system_metadata: Mapped[dict] = mapped_column(JSON, default=dict)  # image properties
    network_info: Mapped[list] = mapped_column(JSON, default=list)  # ports and their IPs
    request_spec: Mapped[dict] = mapped_column(JSON, default=dict)
    security_groups: Mapped[list] = mapped_column(JSON, default=list)
    reservation_id: Mapped[str] = mapped_column(String(32), default="")
    launch_index: Mapped[int] = mapped_column(Integer, default=0)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    access_ip_v4: Mapped[str | None] = mapped_column(String(39), default=None)
    access_ip_v6: Mapped[str | None] = mapped_column(String(39), default=None)
    launched_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    terminated_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=_now, onupdate=_now)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    __table_args__ = (Index("ix_instances_project_deleted", "project_id", "deleted"),)


class InstanceFault(Base):
    __tablename__ = "instance_faults"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(String(36), index=True)
    code: Mapped[int] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(String(255))
    details: Mapped[str] = mapped_column(Text, default="")
    host: Mapped[str | None] = mapped_column(String(255), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=_now)


class InstanceAction(Base):
    __tablename__ = "instance_actions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(String(36), index=True)
    request_id: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(64))
    project_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(64))
    message: Mapped[str | None] = mapped_column(String(255), default=None)
    start_time: Mapped[datetime] = mapped_column(DateTime, default=_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=_now, onupdate=_now)


class InstanceActionEvent(Base):
    __tablename__ = "instance_action_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("instance_actions.id",
                                                      ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(64))
    host: Mapped[str | None] = mapped_column(String(255), default=None)
    result: Mapped[str | None] = mapped_column(String(32), default=None)
    traceback: Mapped[str | None] = mapped_column(Text, default=None)
    start_time: Mapped[datetime] = mapped_column(DateTime, default=_now)
    finish_time: Mapped[datetime | None] = mapped_column(DateTime, default=None)


class BlockDeviceMapping(Base):
    __tablename__ = "block_device_mappings"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # Nova's bdm uuid
    instance_id: Mapped[str] = mapped_column(String(36), index=True)
    source_type: Mapped[str] = mapped_column(String(16))
    destination_type: Mapped[str] = mapped_column(String(16))
    boot_index: Mapped[int | None] = mapped_column(Integer, default=None)
    volume_id: Mapped[str | None] = mapped_column(String(36), default=None)
    image_id: Mapped[str | None] = mapped_column(String(36), default=None)
    volume_size: Mapped[int | None] = mapped_column(Integer, default=None)
    device_name: Mapped[str | None] = mapped_column(String(255), default=None)
    delete_on_termination: Mapped[bool] = mapped_column(Boolean, default=False)
    attachment_id: Mapped[str | None] = mapped_column(String(36), default=None)
    tag: Mapped[str | None] = mapped_column(String(255), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=_now)


class Flavor(Base):
    __tablename__ = "flavors"
    id: Mapped[str] = mapped_column(String(255), primary_key=True)  # the flavor id
    name: Mapped[str] = mapped_column(String(255), unique=True)
    vcpus: Mapped[int] = mapped_column(Integer)
    ram: Mapped[int] = mapped_column(Integer)
    disk: Mapped[int] = mapped_column(Integer)
    ephemeral: Mapped[int] = mapped_column(Integer, default=0)
    swap: Mapped[int] = mapped_column(Integer, default=0)
    rxtx_factor: Mapped[float] = mapped_column(Float, default=1.0)
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    extra_specs: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=_now)


class FlavorAccess(Base):
    __tablename__ = "flavor_projects"
    flavor_id: Mapped[str] = mapped_column(ForeignKey("flavors.id", ondelete="CASCADE"),
                                           primary_key=True)
    project_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class KeyPair(Base):
    __tablename__ = "key_pairs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(255))
    public_key: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(8), default="ssh")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=_now)
    __table_args__ = (Index("ux_key_pairs_user_name", "user_id", "name", unique=True),)


class ServerGroup(Base):
    __tablename__ = "server_groups"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    project_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[str] = mapped_column(String(64))
    policy: Mapped[str] = mapped_column(String(32))
    rules: Mapped[dict] = mapped_column(JSON, default=dict)
    members: Mapped[list] = mapped_column(JSON, default=list)  # instance ids
    created_at: Mapped[datetime] = mapped_column(DateTime, default=_now)


class Quota(Base):
    __tablename__ = "quotas"
    project_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    resource: Mapped[str] = mapped_column(String(64), primary_key=True)
    hard_limit: Mapped[int] = mapped_column(Integer)


class Service(ServiceRecordMixin, Base):
    """A compute service (scheduler, conductor, one per compute agent) and its heartbeat."""


class ComputeNode(Base):
    """What a compute agent last reported about its hypervisor."""

    __tablename__ = "compute_nodes"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # = its resource provider
    host: Mapped[str] = mapped_column(String(255), unique=True)
    hypervisor_hostname: Mapped[str] = mapped_column(String(255))
    hypervisor_type: Mapped[str] = mapped_column(String(64))
    hypervisor_version: Mapped[int] = mapped_column(Integer, default=1)
    host_ip: Mapped[str] = mapped_column(String(39), default="127.0.0.1")
    vcpus: Mapped[int] = mapped_column(Integer)
    memory_mb: Mapped[int] = mapped_column(Integer)
    local_gb: Mapped[int] = mapped_column(Integer)
    cpu_arch: Mapped[str] = mapped_column(String(32), default="x86_64")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=_now, onupdate=_now)


class Aggregate(Base):
    __tablename__ = "aggregates"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    availability_zone: Mapped[str | None] = mapped_column(String(255), default=None)
    metadata_: Mapped[dict] = mapped_column("metadata", JSON, default=dict)
    hosts: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=_now)


class Span(Base):
    """One traced step of a request (core/tracing.py), kept for `pocketstack trace`."""

    __tablename__ = "spans"
    span_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    trace_id: Mapped[str] = mapped_column(String(64), index=True)
    parent_id: Mapped[str | None] = mapped_column(String(16), default=None)
    name: Mapped[str] = mapped_column(String(255))
    step: Mapped[str | None] = mapped_column(String(8), default=None)
    service: Mapped[str] = mapped_column(String(64))
    start: Mapped[float] = mapped_column(Float)  # unix seconds
    end: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="ok")
    attributes: Mapped[dict] = mapped_column(JSON, default=dict)
