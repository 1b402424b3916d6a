"""Kumo's settings: declared once, read from ``kumo.toml`` and ``KUMO_*`` variables.

Every setting is a field here with a description; ``kumo config show`` prints the
effective values with secrets masked, and a meta-test checks that each field is
documented.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import socket
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def _default_state_dir() -> Path:
    return Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state")) / "kumo"


def config_file_path() -> Path:
    """Where ``kumo.toml`` is read from: ``KUMO_CONFIG`` or ``./kumo.toml``."""
    return Path(os.environ.get("KUMO_CONFIG", "kumo.toml"))


class Settings(BaseSettings):
    """The effective configuration of one Kumo process."""

    model_config = SettingsConfigDict(env_prefix="KUMO_", extra="forbid")

    state_dir: Path = Field(
        default_factory=_default_state_dir,
        description="Directory holding the database, keys, logs, pid files and clouds.yaml.",
    )
    host: str = Field("127.0.0.1", description="Address the API server listens on.")
    port: int = Field(8780, ge=1, le=65535, description="Port the API server listens on.")
    public_host: str | None = Field(
        None, description="Host name put into the catalog and clouds.yaml (default: host)."
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the database (default: SQLite file in the state dir).",
    )
    transport_url: str = Field(
        "inproc://",
        description="Message bus: 'inproc://' (one process) or 'amqp://user:pw@host:5672/'.",
    )
    roles: list[str] = Field(
        default_factory=lambda: ["all"],
        description="Roles `kumo up` runs; 'all' runs every role in one process (embedded).",
    )
    region: str = Field("RegionOne", description="Region name in the catalog.")
    admin_password: SecretStr | None = Field(
        None,
        description="Password of admin, demo and alt_demo (default: generated once, kept 0600).",
    )
    service_password: SecretStr | None = Field(
        None,
        description="Password of the `kumo` service user the services call each other as "
        "(default: generated once, kept 0600 in the state dir).",
    )
    token_expiration: int = Field(
        3600, ge=60, le=7 * 86400, description="Lifetime of an issued token, in seconds."
    )
    fernet_max_active_keys: int = Field(
        3, ge=2, le=100, description="Fernet keys kept by `kumo identity rotate-keys`."
    )
    max_request_body: int = Field(
        1 << 20, ge=1024, description="Largest request body accepted (bytes); larger is 413."
    )
    policy_file: Path | None = Field(
        None, description="YAML file of policy rule overrides (oslo.policy syntax)."
    )
    log_level: str = Field("INFO", description="Logging level of the services.")
    lockout_failure_attempts: int | None = Field(
        None, ge=1, description="Failed logins before a user is locked (off when unset)."
    )
    lockout_duration: int = Field(1800, ge=1, description="Seconds a locked user stays locked.")
    password_expires_days: int | None = Field(
        None, ge=1, description="Days before a password expires (off when unset)."
    )
    unique_last_password_count: int = Field(
        0,
        ge=0,
        description="How many latest passwords (the current one too) a new one must differ "
        "from; 0 turns the check off.",
    )
    api_workers: int = Field(1, ge=1, le=64, description="uvicorn worker processes for the API.")
    api_keep_alive: int = Field(
        75,
        ge=1,
        description="Seconds the API keeps an idle HTTP keep-alive connection open. Longer than "
        "the idle expiry of common client pools (httpx 5 s, aiohttp 15 s, load balancers' 60 s): "
        "a server closing first races a client reusing the connection, whose request then fails "
        "with a reset (uvicorn's default of 5 s equals httpx's).",
    )
    image_count_total: int = Field(
        -1,
        ge=-1,
        description="Images a project may own (Glance's image_count_total limit); -1: unlimited.",
    )
    image_size_total: int = Field(
        -1,
        ge=-1,
        description="MiB of image data a project may store (Glance's image_size_total limit); "
        "-1: unlimited.",
    )
    service_down_time: int = Field(
        60,
        ge=1,
        description="Seconds without a heartbeat after which a compute service is 'down'.",
    )
    compute_host: str = Field(
        default_factory=socket.gethostname,
        description="Name of this machine's compute host (its bus topic is compute.<host>, its "
        "Placement resource provider has this name); default: the machine's hostname.",
    )
    virt_driver: str = Field(
        "auto",
        description="Virt driver of the compute agent: 'qemu' runs every server as a real QEMU "
        "guest; 'fake' keeps guests in memory and runs none (for scale tests); 'auto' picks "
        "'qemu' when qemu-system-x86_64 is installed and the guest image is built in the state "
        "dir (`kumo up` builds it), else 'fake' with a warning.",
    )
    qemu_machine_type: str = Field(
        "microvm",
        description="QEMU machine type of guests: microvm (fastest boot), q35 or pc.",
    )
    qemu_accel: str = Field(
        "auto",
        description="QEMU accelerator: 'auto' uses KVM only when a probe boot proves it works, "
        "else TCG; 'kvm' or 'tcg' force one.",
    )
    qemu_shutdown_timeout: float = Field(
        30.0,
        ge=0,
        description="Seconds a guest gets to power off after the ACPI power button before it "
        "is stopped hard (Nova's shutdown_timeout).",
    )
    default_ephemeral_format: Literal["ext2", "ext3", "ext4", "vfat", "xfs"] | None = Field(
        None,
        description="File system of a flavor's ephemeral disk (Nova's default_ephemeral_format); "
        "unset: ext4 for images with os_type=linux, else vfat, as Nova picks it.",
    )
    force_config_drive: bool = Field(
        True,
        description="Attach a config drive to every server, not only those that ask for one "
        "(Nova's force_config_drive; the Kumo guest reads it).",
    )
    sync_power_state_interval: float = Field(
        30.0,
        gt=0,
        description="Seconds between comparisons of each guest's real power state with the "
        "database's (Nova's sync_power_state_interval).",
    )
    fake_hosts: int = Field(
        1,
        ge=1,
        le=10000,
        description="How many simulated compute hosts the fake driver runs in one process "
        "(named <compute_host>-1 … -N when more than one).",
    )
    fake_host_vcpus: int = Field(
        16, ge=1, description="VCPUs each simulated (fake driver) compute host reports."
    )
    fake_host_memory_mb: int = Field(
        32768, ge=1, description="Memory (MiB) each simulated (fake driver) host reports."
    )
    fake_host_disk_gb: int = Field(
        1024, ge=1, description="Local disk (GiB) each simulated (fake driver) host reports."
    )
    cpu_allocation_ratio: float = Field(
        4.0, gt=0, description="Virtual CPUs per physical CPU Placement lets hosts promise."
    )
    ram_allocation_ratio: float = Field(
        1.0, gt=0, description="Memory overcommit ratio of compute hosts in Placement."
    )
    disk_allocation_ratio: float = Field(
        1.0, gt=0, description="Local disk overcommit ratio of compute hosts in Placement."
    )
    reserved_host_memory_mb: int = Field(
        512, ge=0, description="Memory (MiB) of each compute host kept for the host itself."
    )
    reserved_host_disk_gb: int = Field(
        0, ge=0, description="Local disk (GiB) of each compute host kept for the host itself."
    )
    scheduler_spread: bool = Field(
        True,
        description="Weigh hosts to spread instances (most free resources first); false packs "
        "them (least free first).",
    )
    scheduler_ram_weight_multiplier: float = Field(
        1.0, description="Weight of free RAM when the scheduler ranks hosts."
    )
    scheduler_cpu_weight_multiplier: float = Field(
        1.0, description="Weight of free VCPUs when the scheduler ranks hosts."
    )
    scheduler_disk_weight_multiplier: float = Field(
        1.0, description="Weight of free local disk when the scheduler ranks hosts."
    )
    scheduler_max_attempts: int = Field(
        3, ge=1, description="Hosts a build is tried on (first try plus reschedules)."
    )
    host_heartbeat_interval: float = Field(
        10.0, gt=0, description="Seconds between a compute host's service heartbeats."
    )
    resource_report_interval: float = Field(
        60.0, gt=0, description="Seconds between a compute host's resource reports."
    )
    bus_topic_prefix: str = Field(
        "",
        description="Prefix of every compute bus topic (keeps parallel test runs apart on "
        "one broker).",
    )
    network_agent: bool | Literal["auto"] = Field(
        "auto",
        description="Run the network agent (the Linux data plane: namespaces, bridges, "
        "dnsmasq, nftables) in the API process of role `all`. 'auto' runs it when the "
        "process is root and ip, nft and dnsmasq work (`kumo status` says why not); "
        "true/false force it. Test clouds that run in parallel set false.",
    )
    network_agent_report_interval: float = Field(
        30.0,
        gt=0,
        description="Seconds between the network agent's heartbeats (Neutron's "
        "report_interval); GET /v2.0/agents shows them.",
    )
    network_agent_down_time: float = Field(
        75.0,
        gt=0,
        description="Seconds without a heartbeat after which GET /v2.0/agents shows an agent "
        "as not alive (Neutron's agent_down_time).",
    )
    network_agent_mode: Literal["all", "compute"] = Field(
        "all",
        description="What this host's network agent does: 'all' (the network node, also a "
        "compute host): bridges, VXLAN, guest taps, security groups, DHCP, routers and the "
        "metadata proxy; 'compute' (a second host): bridges, VXLAN, guest taps and security "
        "groups only, for the networks with ports bound to it (`kumo serve --role network`).",
    )
    network_tunnel_ip: str | None = Field(
        None,
        description="This host's VXLAN underlay (VTEP) address, reported as tunneling_ip in "
        "GET /v2.0/agents. A VXLAN network with ports bound on more than one host gets a VXLAN "
        "device on each, with the other hosts' addresses as unicast peers; unset: one host, "
        "no VXLAN devices.",
    )
    network_agent_resync_interval: float = Field(
        30.0,
        gt=0,
        description="Seconds between the network agent's full reconciles (drift repair). "
        "An agent of role network (a second host) hears no bus events and learns API "
        "changes at this pace.",
    )
    compute_in_process: bool = Field(
        True,
        description="Role 'all' also runs the scheduler, conductor and compute agents in the "
        "API process; false serves only the APIs (the other roles run elsewhere).",
    )
    fault_injection: str = Field(
        "",
        description="FOR TESTS ONLY (make chaos): crash points to arm, comma-separated "
        "'point:kill|kill-always|raise', e.g. 'step_12_scheduler_cast_build:kill' (see "
        "kumo.common.faults); never set it on a real cloud.",
    )

    console_token_ttl: int = Field(
        600,
        ge=1,
        le=86400,
        description="Seconds a remote console URL's token stays valid (Nova's "
        "[consoleauth] token_ttl).",
    )
    metadata_proxy_shared_secret: SecretStr | None = Field(
        None,
        description="Secret the network agent's metadata proxy signs X-Instance-ID with "
        "(HMAC-SHA256) and the metadata API checks (default: generated once, kept 0600 in "
        "the state dir).",
    )

    @field_validator("network_tunnel_ip")
    @classmethod
    def _tunnel_ip_is_an_address(cls, value: str | None) -> str | None:
        # It goes into `ip link add … local <ip>` and every other host's FDB: an address only.
        if value in (None, ""):
            return None
        return str(ipaddress.ip_address(value))

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Precedence: explicit arguments, then KUMO_* variables, then kumo.toml.
        toml = TomlConfigSettingsSource(settings_cls, toml_file=config_file_path())
        return (init_settings, env_settings, toml)

    @property
    def effective_database_url(self) -> str:
        """The database URL, defaulting to the embedded SQLite file."""
        return self.database_url or f"sqlite:///{self.state_dir / 'kumo.db'}"

    def service_password_value(self) -> str:
        """The service user's password: the setting, else the state dir's secret file.

        The file is made (0600) by the first process that needs it, normally `kumo up`.
        """
        if self.service_password is not None:
            return self.service_password.get_secret_value()
        return read_or_make_secret(self.state_dir / "service-password")

    def metadata_proxy_shared_secret_value(self) -> str:
        """The metadata proxy's shared secret: the setting, else the state dir's secret file."""
        if self.metadata_proxy_shared_secret is not None:
            return self.metadata_proxy_shared_secret.get_secret_value()
        return read_or_make_secret(self.state_dir / "metadata-proxy-secret")

    @property
    def public_url(self) -> str:
        """Base URL clients use to reach the API server."""
        return f"http://{self.public_host or self.host}:{self.port}"

    def masked(self) -> dict[str, Any]:
        """The settings as plain data, with secrets and URL passwords masked."""
        data = self.model_dump(mode="json")
        for name, value in list(data.items()):
            if isinstance(getattr(self, name), SecretStr):
                data[name] = "********" if value else None
            elif name.endswith("_url") and isinstance(value, str):
                data[name] = mask_url_password(value)
        return data


def read_or_make_secret(path: Path) -> str:
    """The secret kept in ``path``; generated there (mode 0600) the first time."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(24) + "\n")
    return path.read_text().strip()


def mask_url_password(url: str) -> str:
    """Hide the password part of a URL such as ``amqp://user:secret@host/``."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    creds, _, host = rest.rpartition("@")
    user, colon, _ = creds.partition(":")
    return f"{scheme}://{user}{':********' if colon else ''}@{host}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    return Settings()
