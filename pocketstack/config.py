"""The one typed configuration of pocketstack.

Sources, strongest first: keyword arguments (the CLI's flags), environment
variables `POCKETSTACK_*` (a section's key is `POCKETSTACK_<SECTION>_<KEY>`,
e.g. `POCKETSTACK_IDENTITY_BCRYPT_ROUNDS`), the TOML file, then the defaults
below. No other module reads the environment.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def default_state_dir() -> Path:
    return Path.home() / ".local" / "share" / "pocketstack"


def default_cache_dir() -> Path:
    return Path.home() / ".cache" / "pocketstack"


def default_config_file() -> Path:
    return Path(os.environ.get("POCKETSTACK_CONFIG", "~/.config/pocketstack/pocketstack.toml"))


def clouds_yaml_path() -> Path:
    """Where the openstack clients look: $OS_CLIENT_CONFIG_FILE, else the user's file."""
    explicit = os.environ.get("OS_CLIENT_CONFIG_FILE")
    if explicit:
        return Path(explicit).expanduser()
    return Path.home() / ".config" / "openstack" / "clouds.yaml"


class IdentityConfig(BaseModel):
    token_expiration: int = Field(3600, description="token lifetime in seconds", gt=0)
    bcrypt_rounds: int = Field(12, ge=4, le=31)
    max_active_keys: int = Field(3, ge=2, description="Fernet keys kept in the repository")
    lockout_failure_attempts: int = Field(0, ge=0, description="0 disables lockout")
    lockout_duration: int = Field(1800, gt=0, description="seconds a locked user waits")
    cache_ttl: float = Field(300.0, ge=0, description="seconds a validated token is cached")
    max_request_body: int = Field(114688, gt=0, description="bytes; larger bodies get 413")


class AuthConfig(BaseModel):
    cache_ttl: float = Field(
        10.0, ge=0, description="seconds a service caches a token validation"
    )
    service_password: str | None = Field(
        None, description="scaled out: the service user's password, for a `pocketstack "
        "serve` without identity (the identity host keeps it in "
        "STATE_DIR/identity-passwords.json)")


class ComputeConfig(BaseModel):
    driver: str = "fake"
    fake_hosts: int = Field(1, ge=1)
    roles: list[str] = Field(
        default_factory=lambda: ["api", "scheduler", "conductor", "agent"],
        description="the parts of compute a process runs; `agent` alone is a compute host "
        "(no API, no database: it reaches the conductor over transport_url)")
    build_timeout: int = Field(300, ge=0, description="seconds before a BUILD goes to ERROR")
    max_attempts: int = Field(3, ge=1, description="hosts tried per build (1 + reschedules)")
    # The fake driver: each fake host's size, and failures injected for tests.
    fake_vcpus: int = Field(16, ge=1)
    fake_memory_mb: int = Field(32768, ge=1)
    fake_disk_gb: int = Field(1000, ge=1)
    fake_fail_spawn_on: list[str] = Field(default_factory=list,
                                          description="fake hosts whose spawns fail")
    fake_hang_spawn_on: list[str] = Field(default_factory=list,
                                          description="fake hosts whose spawns never end")
    # The scheduler: which filters and weighers run, in order, and their weights.
    scheduler_filters: list[str] = Field(default_factory=lambda: [
        "compute", "availability_zone", "ram", "vcpu", "disk", "image_properties",
        "server_group_affinity", "server_group_anti_affinity", "same_host",
        "different_host", "aggregate_metadata",
    ])
    scheduler_weighers: list[str] = Field(default_factory=lambda: [
        "ram", "vcpu", "disk", "build_failure", "soft_affinity", "soft_anti_affinity",
    ])
    weigher_multipliers: dict[str, float] = Field(default_factory=lambda: {
        "ram": 1.0, "vcpu": 1.0, "disk": 0.0, "build_failure": 1000000.0,
        "soft_affinity": 1.0, "soft_anti_affinity": 1.0,
    })
    scheduler_hosts_to_weigh: int = Field(
        100, ge=0, description="stop filtering once this many hosts passed, weigh those "
        "(as kube-scheduler's percentage of nodes to score); 0: filter and weigh all")
    cpu_allocation_ratio: float = Field(16.0, gt=0)
    ram_allocation_ratio: float = Field(1.5, gt=0)
    disk_allocation_ratio: float = Field(1.0, gt=0)
    power_sync_interval: float = Field(60.0, gt=0)
    default_availability_zone: str = "nova"
    config_drive_format: str = Field(
        "vfat", pattern="^(vfat|iso9660)$", description="the config drive's filesystem: "
        "vfat (mkfs.fat + mtools) or iso9660 (Nova's default; needs xorriso or genisoimage)")


class TracingConfig(BaseModel):
    otlp_url: str | None = Field(None, description="OTLP/HTTP JSON traces endpoint, e.g. "
                                 "http://127.0.0.1:4318/v1/traces; none: spans stay local")
    flush_interval: float = Field(0.5, gt=0)


class NetworkConfig(BaseModel):
    agent: str = Field("noop", description="noop: in-process, touches nothing, ports go "
                       "ACTIVE when bound; linuxbridge: in-process, bridges, DHCP, security "
                       "groups and routers on this host (root); rpc: per-host agents over "
                       "RPC (agent/rpc.py)")
    resync_interval: float = Field(10.0, gt=0, description="linuxbridge: seconds between "
                                   "full passes (routers, floating IPs, security groups)")
    tenant_network_type: str = Field(
        "vxlan", description="segment type of project networks: vxlan, vlan or local")
    physical_networks: list[str] = Field(
        default_factory=lambda: ["public", "physnet1"],
        description="physical networks flat and vlan networks may use")
    vlan_ranges: list[str] = Field(
        default_factory=lambda: ["physnet1:1000:1999"], description="PHYSNET:MIN:MAX")
    vxlan_ranges: list[str] = Field(default_factory=lambda: ["1:1000"], description="MIN:MAX")
    global_mtu: int = Field(1500, ge=68)
    base_mac: str = Field("fa:16:3e:00:00:00", description="first three octets are kept")
    public_cidr: str = Field("172.24.4.0/24", description="the bootstrap `public` network")
    private_cidr: str = Field("10.0.0.0/26", description="the demo project's `private-subnet`")
    default_quotas: dict[str, int] = Field(default_factory=lambda: {
        "network": 100, "subnet": 100, "port": 500, "router": 10, "floatingip": 50,
        "security_group": 10, "security_group_rule": 100, "subnetpool": -1,
        "rbac_policy": 10,
    })


class VolumeConfig(BaseModel):
    backend: str = Field("file", description="file, lvm or fake")
    backend_name: str = Field("", description="volume_backend_name; default: the backend kind")
    host: str = Field("", description="storage host name; default: this machine's name")
    availability_zone: str = "nova"
    file_dir: Path | None = Field(None, description="file backend: default STATE_DIR/volumes")
    file_format: str = Field("auto", description="file backend: qcow2, raw or auto "
                             "(qcow2 when qemu-img is installed)")
    file_capacity_gb: float | None = Field(
        None, gt=0, description="file backend: capacity reported; default the filesystem's")
    lvm_volume_group: str = "pocketstack-volumes"
    lvm_activation: bool = Field(
        True, description="false: metadata-only LVM (no device-mapper), for tests")
    fake_capacity_gb: float = Field(1000.0, gt=0)
    max_over_subscription_ratio: float = Field(20.0, ge=1.0)
    reserved_percentage: float = Field(0.0, ge=0, le=100)
    report_interval: float = Field(10.0, gt=0, description="seconds between capacity reports")
    default_volume_type: str = "__DEFAULT__"
    allowed_direct_url_schemes: list[str] = Field(
        default_factory=lambda: ["file"],
        description="image locations read directly instead of downloaded")
    quota_volumes: int = Field(10, ge=-1)
    quota_snapshots: int = Field(10, ge=-1)
    quota_gigabytes: int = Field(1000, ge=-1)
    quota_per_volume_gigabytes: int = Field(-1, ge=-1)
    quota_backups: int = Field(10, ge=-1)
    quota_backup_gigabytes: int = Field(1000, ge=-1)
    quota_groups: int = Field(10, ge=-1)


class ImageConfig(BaseModel):
    store: str = Field("file", pattern="^(file|memory)$",
                       description="where image data lives: file (state dir) or memory")
    fsync: bool = Field(True, description="fsync image data before it becomes visible")
    image_size_cap: int = Field(20 << 30, gt=0, description="bytes; largest image accepted")
    image_count_total: int = Field(100, ge=-1, description="images per project; -1 unlimited")
    image_size_total: int = Field(100 << 30, ge=-1,
                                  description="bytes of image data per project; -1 unlimited")
    image_stage_total: int = Field(20 << 30, ge=-1,
                                   description="bytes of staged data per project; -1 unlimited")
    show_image_direct_url: bool = Field(
        False, description="show an image's file:// location as direct_url (Glance's option: "
        "lets the volume service on this host read image data in place)")


class RpcConfig(BaseModel):
    response_timeout: float = Field(60.0, gt=0, description="seconds a call waits for its reply")
    service_down_time: float = Field(
        60.0, gt=0, description="seconds without a heartbeat after which a service is down"
    )
    report_interval: float = Field(10.0, gt=0, description="seconds between heartbeats")
    max_in_flight: int = Field(64, ge=1, description="requests one server runs at once")
    max_message_size: int = Field(
        4 * 1024 * 1024, ge=1024, description="bytes; larger RPC messages are refused"
    )
    heartbeat: int = Field(30, ge=0, description="AMQP heartbeat in seconds (0: none)")
    max_reconnect_delay: float = Field(
        10.0, gt=0, description="the longest wait between two reconnection attempts"
    )


class LibvirtConfig(BaseModel):
    """The libvirt compute driver (compute.driver = "libvirt")."""

    uri: str = "qemu:///system"
    virt_type: str = Field("auto", pattern="^(auto|kvm|qemu)$",
                           description="auto: kvm only if a guest really runs under it")
    images_type: str = Field("qcow2", pattern="^(qcow2|raw)$",
                             description="format of the cached base images (_base)")
    instances_path: Path | None = Field(None, description="default STATE_DIR/instances")
    start_daemon: bool = Field(True, description="start a libvirtd when none answers")
    shutdown_timeout: float = Field(60.0, ge=0, description="seconds of ACPI shutdown "
                                    "before power off (and soft reboot) turn hard")
    detach_timeout: float = Field(30.0, gt=0, description="seconds a detached device "
                                  "may take to leave the guest")


class MetadataConfig(BaseModel):
    """The instance metadata service and its per-network proxies."""

    shared_secret: str | None = Field(
        None, description="HMAC secret the proxies sign guests' requests with; default: "
        "generated once and kept in STATE_DIR/metadata/shared_secret")
    cache_ttl: float = Field(15.0, ge=0, description="seconds a guest's lookup is cached")
    dhcp_domain: str = Field("novalocal", description="appended to hostnames, as Nova's "
                             "[api]dhcp_domain; empty: none")


class Config(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="POCKETSTACK_",
        env_nested_delimiter="_",
        env_nested_max_split=1,
        extra="ignore",
    )

    state_dir: Path = Field(default_factory=default_state_dir)
    cache_dir: Path = Field(
        default_factory=default_cache_dir,
        description="build artefacts shared by every state dir (the test image)",
    )
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    public_url: str | None = Field(
        None, description="base URL put in the catalog; default http://HOST:PORT"
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL with {service} in it, one database per service; "
        "default: SQLite files in the state directory",
    )
    transport_url: str = "local://"
    service_urls: dict[str, str] = Field(
        default_factory=dict,
        description="scaled out: where services of other processes answer, by name, "
        "e.g. {identity = \"http://ctl:8080/identity\"}; default BASE_URL + the service's prefix")
    policy_file: Path | None = None
    log_level: str = "info"
    region: str = "RegionOne"

    identity: IdentityConfig = IdentityConfig()
    auth: AuthConfig = AuthConfig()
    compute: ComputeConfig = ComputeConfig()
    network: NetworkConfig = NetworkConfig()
    libvirt: LibvirtConfig = LibvirtConfig()
    image: ImageConfig = ImageConfig()
    volume: VolumeConfig = VolumeConfig()
    rpc: RpcConfig = RpcConfig()
    tracing: TracingConfig = TracingConfig()
    metadata: MetadataConfig = MetadataConfig()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=default_config_file().expanduser())
        return (init_settings, env_settings, toml)

    # -- derived values -------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"

    def database_for(self, service: str) -> str:
        if self.database_url:
            return self.database_url.replace("{service}", service)
        return f"sqlite+aiosqlite:///{self.state_dir / (service + '.db')}"

    def path(self, *parts: str) -> Path:
        """A path under the state directory, its parent created."""
        p = self.state_dir.joinpath(*parts)
        p.parent.mkdir(parents=True, exist_ok=True)
        return p


def load(**overrides: Any) -> Config:
    """The configuration, with explicit overrides (None values are ignored)."""
    cfg = Config(**{k: v for k, v in overrides.items() if v is not None})
    cfg.state_dir = cfg.state_dir.expanduser().resolve()
    return cfg
