"""Regressions found by `make fuzz` (reports/fuzz.md), on the whole API."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from tests.conftest import issue
from tests.security.helpers import SERVICES
from tools.fuzz.openapi import document
from tools.fuzz.routes import error_format_problem

#: One item path per service, with a newline (``%0A``) inside the id: Starlette's mount
#: pattern did not match it, and the root answered in Keystone's format for every service.
NEWLINE_PATHS = [
    ("/identity", "/identity/v3/users/a%0Ab"),
    ("/compute", "/compute/v2.1/flavors/a%0Ab"),
    ("/image", "/image/v2/images/G%0A%C2%94"),
    ("/networking", "/networking/v2.0/ports/%0A%F2%9B%A3%8F"),
    ("/placement", "/placement/resource_providers/a%0Ab"),
]


@pytest.mark.parametrize(("prefix", "path"), NEWLINE_PATHS, ids=[p for p, _ in NEWLINE_PATHS])
@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_a_newline_in_an_id_reaches_the_service(
    cloud: TestClient, prefix: str, path: str, method: str
) -> None:
    headers = {"X-Auth-Token": issue(cloud)}
    if prefix == "/placement":
        headers["OpenStack-API-Version"] = "placement 1.39"
    resp = cloud.request(method, path, headers=headers)
    assert 400 <= resp.status_code < 500, resp.text
    assert error_format_problem(prefix, resp.status_code, resp.content) is None, resp.text


def test_a_project_tag_outside_latin1_gets_a_percent_encoded_location(cloud: TestClient) -> None:
    # Location echoed the raw URL; Starlette cannot encode it as Latin-1 (was a 500).
    headers = {"X-Auth-Token": issue(cloud)}
    project = cloud.get("/identity/v3/auth/projects", headers=headers).json()["projects"][0]
    tag = "\u00e9t\u00e9-\U0001f600"
    resp = cloud.put(f"/identity/v3/projects/{project['id']}/tags/{quote(tag)}", headers=headers)
    assert resp.status_code == 201, resp.text
    assert resp.headers["Location"].endswith(f"/v3/projects/{project['id']}/tags/{quote(tag)}")
    tags = cloud.get(f"/identity/v3/projects/{project['id']}/tags", headers=headers).json()
    assert tag in tags["tags"]


def test_bodiless_answers_are_declared_without_json() -> None:
    # Schemathesis judged these by a JSON body FastAPI documented by default (ST104/ST109).
    docs = {s.name: document(s) for s in SERVICES}
    download = docs["image"]["paths"]["/v2/images/{image_id}/file"]["get"]["responses"]
    assert "application/json" not in download["200"].get("content", {})
    assert "content" not in download["204"]
    quota_delete = docs["compute"]["paths"]["/v2.1/os-quota-sets/{tenant_id}"]["delete"]
    assert "content" not in quota_delete["responses"]["202"]
    flavor_delete = docs["compute"]["paths"]["/v2.1/flavors/{flavor_id}"]["delete"]
    assert "content" not in flavor_delete["responses"]["202"]
