"""tempest.conf generated from the running cloud: its catalog, its admin, Kumo's features."""

from __future__ import annotations

import configparser
import io
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
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
}
ALL_SERVICES = ("nova", "glance", "neutron", "cinder", "swift", "horizon")

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


@dataclass
class CloudFacts:
    """What was read from the running cloud to write tempest.conf."""

    uri_v3: str
    region: str
    user_domain_name: str
    project_domain_name: str


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

    return CloudFacts(
        uri_v3=uri_v3,
        region=access.region,
        user_domain_name=domain_name(access.user_domain_id),
        project_domain_name=domain_name(access.project_domain_id),
    )


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
    service: str, access: AdminAccess, facts: CloudFacts, workspace: Path, timeout: int = 30
) -> str:
    """The text of tempest.conf for ``service`` against this cloud."""
    conf = configparser.ConfigParser(interpolation=None)
    conf.optionxform = str  # type: ignore[assignment,method-assign]
    conf["DEFAULT"] = {"log_dir": str(workspace / "logs"), "log_file": "tempest.log"}
    conf["oslo_concurrency"] = {"lock_path": str(workspace / "tempest_lock")}
    conf["auth"] = {
        # tempest creates (and deletes) a project and users per test class.
        # tempest_roles stays unset: it would be granted to every user and break reader tests.
        "use_dynamic_credentials": "true",
        "create_isolated_networks": "false",
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
    available = SERVICES[service]["available"]
    conf["service_available"] = {name: str(name in available).lower() for name in ALL_SERVICES}
    out = io.StringIO()
    out.write(f"# Generated by tools/tempest/run.py for {service} against {facts.uri_v3}\n")
    conf.write(out)
    return out.getvalue()
