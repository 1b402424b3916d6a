"""tempest.conf generated from the running cloud: its catalog, its admin, Kumo's features."""

from __future__ import annotations

import configparser
import io
import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cloud import AdminAccess, CloudError

#: Per service: the tests to run and the [service_available] entries that are true.
#: Every other service is false, so tempest skips what the cloud does not serve.
SERVICES: dict[str, dict[str, Any]] = {
    "identity": {
        # v3 only: tempest 47 has no v2 identity tests left, but keep them out explicitly.
        "regex": r"^tempest\.api\.identity\.(admin\.)?v3\.",
        "available": set(),
    },
    # Compute tests need images (glance) and, with neutron in the catalog, networks.
    "compute": {"regex": r"^tempest\.api\.compute\.", "available": {"nova", "glance", "neutron"}},
    "image": {"regex": r"^tempest\.api\.image\.", "available": {"glance"}},
    # Network tests use compute only to read a hypervisor's host name for port bindings.
    "network": {"regex": r"^tempest\.api\.network\.", "available": {"neutron", "nova"}},
}
ALL_SERVICES = ("nova", "glance", "neutron", "cinder", "swift", "horizon")

#: The image `kumo up` registers for real guests (kumo.guest.register).
GUEST_IMAGE_NAME = "kumo-guest"
#: On real guests: devstack's cirros256 (256 MiB, 1 GB disk) fits the guest image, as in
#: benchmarks/boot_real.py; m1.tiny (512 MiB) is the alternative flavor.
REAL_GUEST_FLAVORS = ("c1", "1")
#: Seconds tempest waits for a real guest's server to be ACTIVE (TCG on a shared host).
REAL_GUEST_BUILD_TIMEOUT = 300

#: Keystone's [security_compliance] values the cloud under test runs with (tools/tempest
#: starts it with the matching KUMO_* settings); they are tempest's own defaults.
SECURITY_COMPLIANCE = {
    "user_lockout_failure_attempts": "2",
    "user_lockout_duration": "5",
    "user_unique_last_password_count": "2",
}

#: What Kumo's identity implements. tempest 47 no longer reads application_credentials,
#: project_tags and external_idp (always on there); they are written so that an older
#: tempest, and a reader of tempest.conf, see the same declaration.
IDENTITY_FEATURES = {
    "api_v3": "true",
    "api_v2": "false",
    "application_credentials": "true",
    "project_tags": "true",
    "security_compliance": "true",
    "trust": "false",
    "access_rules": "true",
    "external_idp": "false",
    "immutable_user_source": "false",
    "domain_specific_drivers": "false",
}


#: What Kumo's compute implements. The consoles are claimed: on the fake virt driver the
#: URLs are made but no console is behind the proxy, so the test that opens one fails
#: there and runs in the QEMU slice (qemu-compute.txt, run.py --virt qemu).
COMPUTE_FEATURES = {
    "resize": "true",
    "cold_migration": "true",
    "live_migration": "false",
    "snapshot": "true",
    "console_output": "true",
    "pause": "true",
    "suspend": "true",
    "shelve": "true",
    "rescue": "true",
    "change_password": "false",
    "interface_attach": "false",
    "vnc_console": "true",
    "serial_console": "true",
    "spice_console": "false",
    "personality": "false",
    "config_drive": "true",
    "metadata_service": "false",
    "block_migration_for_live_migration": "false",
    "attach_encrypted_volume": "false",
    "disk_config": "true",
    "scheduler_enabled_filters": "ComputeFilter,AvailabilityZoneFilter,"
    "ImagePropertiesFilter,ServerGroupAntiAffinityFilter,ServerGroupAffinityFilter,"
    "AggregateInstanceExtraSpecsFilter",
}

#: What Kumo's image service implements.
IMAGE_FEATURES = {
    "api_v2": "true",
    "api_v1": "false",
    "import_image": "true",
    "os_glance_reserved": "true",
    "manage_locations": "false",
    # Like Glance's [image_format] require_image_format_match (default on): uploads whose
    # content does not match disk_format (tempest's random bytes as qcow2/vhd) are
    # refused, so tempest must not rely on registering bogus images (ListUserImagesTest
    # skips itself, as it does against a default Glance). raw/ami/ari/aki data with no
    # recognisable header is accepted, as Glance accepts it.
    "image_format_enforcement": "true",
    # No import-time conversion plugin (Glance's image_conversion is off by default).
    "image_conversion": "false",
    # os_hash_value is computed on every upload (Glance's do_secure_hash default).
    "do_secure_hash": "true",
    "http_store_enabled": "false",
}


@dataclass
class CloudFacts:
    """What was read from the running cloud to write tempest.conf."""

    uri_v3: str
    region: str
    user_domain_name: str
    project_domain_name: str
    #: image ids tempest boots (the registered guest image first), flavor ids, networks.
    images: list[str] = field(default_factory=list)
    #: the id of ``kumo-guest``, the image real (QEMU) guests boot; "" when not registered.
    guest_image: str = ""
    flavors: list[str] = field(default_factory=list)
    public_network_id: str = ""
    network_extensions: list[str] = field(default_factory=list)
    compute_max_microversion: str = ""


def _request(
    url: str, token: str | None = None, body: dict[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    headers = {"Accept": "application/json"}
    if token:
        headers["X-Auth-Token"] = token
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(req, timeout=15) as resp:  # noqa: S310
            return json.load(resp), dict(resp.headers)
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")[:500]
        method = "POST" if body is not None else "GET"
        raise CloudError(f"{method} {url} answered {exc.code}: {detail}") from exc
    except (OSError, ValueError) as exc:
        raise CloudError(f"{url}: {exc}") from exc


def discover(access: AdminAccess) -> CloudFacts:
    """Log in as the admin and read the identity endpoint and domain names."""
    base = access.auth_url.removesuffix("/v3")
    auth = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "name": access.username,
                        "domain": {"id": access.user_domain_id},
                        "password": access.password,
                    }
                },
            },
            "scope": {
                "project": {"name": access.project_name, "domain": {"id": access.project_domain_id}}
            },
        }
    }
    body, headers = _request(base + "/v3/auth/tokens", body=auth)
    token = next(v for k, v in headers.items() if k.lower() == "x-subject-token")
    endpoint = _identity_endpoint(body["token"].get("catalog") or [], access.region)
    uri_v3 = endpoint.rstrip("/")
    if not uri_v3.endswith("/v3"):
        uri_v3 += "/v3"

    def domain_name(domain_id: str) -> str:
        found, _ = _request(f"{uri_v3}/domains/{domain_id}", token=token)
        return str(found["domain"]["name"])

    facts = CloudFacts(
        uri_v3=uri_v3,
        region=access.region,
        user_domain_name=domain_name(access.user_domain_id),
        project_domain_name=domain_name(access.project_domain_id),
    )
    _discover_services(facts, body["token"].get("catalog") or [], access.region, token)
    return facts


def _discover_services(
    facts: CloudFacts, catalog: list[dict[str, Any]], region: str, token: str
) -> None:
    """Images, flavors, the public network and extensions, from whichever services exist."""
    urls = {
        s["type"]: ep["url"].rstrip("/")
        for s in catalog
        for ep in s.get("endpoints", [])
        if ep.get("interface") == "public" and region in (ep.get("region"), ep.get("region_id"))
    }
    if "image" in urls:
        images, _ = _request(urls["image"] + "/v2/images?status=active&sort=created_at:asc", token)
        facts.images = [i["id"] for i in images.get("images", [])]
        facts.guest_image = next(
            (i["id"] for i in images.get("images", []) if i.get("name") == GUEST_IMAGE_NAME), ""
        )
    if "compute" in urls:
        versions, _ = _request(urls["compute"] + "/", token)
        facts.compute_max_microversion = str(versions.get("version", {}).get("version", ""))
        flavors, _ = _request(urls["compute"] + "/flavors", token)
        ids = [f["id"] for f in flavors.get("flavors", [])]
        # devstack's tempest flavors first (m1.nano, m1.micro), then the smallest others.
        facts.flavors = [i for i in ("42", "84") if i in ids] + [
            i for i in ids if i not in ("42", "84")
        ]
    if "network" in urls:
        nets, _ = _request(urls["network"] + "/v2.0/networks?router:external=true", token)
        public = [n["id"] for n in nets.get("networks", []) if n.get("name") == "public"]
        facts.public_network_id = public[0] if public else ""
        exts, _ = _request(urls["network"] + "/v2.0/extensions", token)
        facts.network_extensions = sorted(e["alias"] for e in exts.get("extensions", []))


def _real_guest_compute(facts: CloudFacts) -> dict[str, str]:
    """[compute] for a QEMU cloud: the bootable guest image, flavors it fits, more time."""
    if not facts.guest_image:
        raise CloudError(
            f"the cloud has no active {GUEST_IMAGE_NAME} image to boot real guests from: "
            "see `kumo up`'s output (the guest image build needs the host's kernel and "
            "qemu-img)"
        )
    missing = [f for f in REAL_GUEST_FLAVORS if f not in facts.flavors]
    if missing:
        raise CloudError(f"the cloud lacks devstack's flavors {', '.join(missing)}")
    return {
        "image_ref": facts.guest_image,
        "image_ref_alt": facts.guest_image,
        "flavor_ref": REAL_GUEST_FLAVORS[0],
        "flavor_ref_alt": REAL_GUEST_FLAVORS[1],
        "build_timeout": str(REAL_GUEST_BUILD_TIMEOUT),
    }


def _identity_endpoint(catalog: list[dict[str, Any]], region: str) -> str:
    for service in catalog:
        if service.get("type") != "identity":
            continue
        for ep in service.get("endpoints", []):
            if ep.get("interface") == "public" and region in (
                ep.get("region"),
                ep.get("region_id"),
            ):
                return str(ep["url"])
    raise CloudError(f"the token's catalog has no public identity endpoint in region {region}")


def render(
    service: str,
    access: AdminAccess,
    facts: CloudFacts,
    workspace: Path,
    timeout: int = 30,
    *,
    real_guests: bool = False,
) -> str:
    """The text of tempest.conf for ``service`` against this cloud.

    ``real_guests``: the cloud runs the QEMU driver, so tempest boots ``kumo-guest`` in
    a flavor it fits and waits longer for ACTIVE.
    """
    conf = configparser.ConfigParser(interpolation=None)
    conf.optionxform = str  # type: ignore[assignment,method-assign]
    conf["DEFAULT"] = {"log_dir": str(workspace / "logs"), "log_file": "tempest.log"}
    conf["oslo_concurrency"] = {"lock_path": str(workspace / "tempest_lock")}
    conf["auth"] = {
        # tempest creates (and deletes) a project and users per test class.
        # tempest_roles stays unset: it would be granted to every user and break reader tests.
        "use_dynamic_credentials": "true",
        # tempest's (and devstack's) default: every test project gets its own network,
        # subnet and router to the public network, as on a real cloud.
        "create_isolated_networks": "true",
        "admin_username": access.username,
        "admin_password": access.password,
        "admin_project_name": access.project_name,
        "admin_domain_name": facts.project_domain_name,
        "admin_user_domain_name": facts.user_domain_name,
        "admin_project_domain_name": facts.project_domain_name,
    }
    conf["identity"] = {
        "uri_v3": facts.uri_v3,
        "auth_version": "v3",
        "region": facts.region,
        "v3_endpoint_type": "public",
        "default_domain_id": access.project_domain_id,
        **SECURITY_COMPLIANCE,
    }
    conf["identity-feature-enabled"] = dict(IDENTITY_FEATURES)
    conf["service-clients"] = {"http_timeout": str(timeout)}
    conf["validation"] = {"run_validation": "false"}
    if facts.images:
        conf["compute"] = {
            "image_ref": facts.images[0],
            "image_ref_alt": facts.images[1 if len(facts.images) > 1 else 0],
            "flavor_ref": facts.flavors[0] if facts.flavors else "1",
            "flavor_ref_alt": facts.flavors[1 if len(facts.flavors) > 1 else 0]
            if facts.flavors
            else "1",
            "min_microversion": "2.1",
            "max_microversion": facts.compute_max_microversion or "2.1",
            "min_compute_nodes": "1",
            "fixed_network_name": "private",
            "build_timeout": "60",
        }
        if real_guests:
            conf["compute"].update(_real_guest_compute(facts))
        conf["compute-feature-enabled"] = dict(COMPUTE_FEATURES)
    conf["image-feature-enabled"] = dict(IMAGE_FEATURES)
    if facts.public_network_id:
        conf["network"] = {
            "public_network_id": facts.public_network_id,
            "floating_network_name": "public",
            "project_network_cidr": "10.100.0.0/16",
            "project_network_mask_bits": "28",
            "build_timeout": "60",
        }
        conf["network-feature-enabled"] = {
            "api_extensions": ",".join(facts.network_extensions) or "all",
            "ipv6": "true",
            "ipv6_subnet_attributes": "true",
            "port_security": "true",
            "floating_ips": "true",
        }
    available = SERVICES[service]["available"]
    conf["service_available"] = {name: str(name in available).lower() for name in ALL_SERVICES}
    out = io.StringIO()
    out.write(f"# Generated by tools/tempest/run.py for {service} against {facts.uri_v3}\n")
    conf.write(out)
    return out.getvalue()
