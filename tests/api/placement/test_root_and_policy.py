"""Version discovery, microversion negotiation and default policies (API reference: Root)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.placement.conftest import Placement, code_of
from tests.conftest import issue


def test_version_document_is_public(cloud: TestClient) -> None:
    resp = cloud.get("/placement/")
    assert resp.status_code == 200
    (version,) = resp.json()["versions"]
    assert version["id"] == "v1.0"
    assert version["min_version"] == "1.0"
    assert version["max_version"] == "1.39"
    assert version["status"] == "CURRENT"
    assert version["links"] == [{"rel": "self", "href": "/placement/"}]


def test_microversion_is_echoed_and_bounded(placement: Placement) -> None:
    resp = placement("GET", "/resource_providers", version="1.14")
    assert resp.headers["openstack-api-version"] == "placement 1.14"
    resp = placement("GET", "/resource_providers", version="1.40")
    assert resp.status_code == 406
    assert resp.json()["errors"][0]["status"] == 406


def test_errors_have_placement_shape(placement: Placement) -> None:
    resp = placement("GET", "/resource_providers/00000000-0000-0000-0000-00000000dead")
    assert resp.status_code == 404
    (error,) = resp.json()["errors"]
    assert set(error) == {"status", "title", "detail", "code", "request_id"}
    assert error["code"] == "placement.undefined_code"
    assert error["request_id"] == resp.headers["x-openstack-request-id"]


#: Routes that only exist from a microversion answer 404 below it.
NEWER_ROUTES = [
    ("GET", "/traits", "1.5", "1.6"),
    ("GET", "/resource_classes", "1.1", "1.2"),
    ("GET", "/usages?project_id=x", "1.8", "1.9"),
    ("GET", "/allocation_candidates?resources=VCPU:1", "1.9", "1.10"),
]


@pytest.mark.parametrize(("method", "path", "before", "since"), NEWER_ROUTES)
def test_routes_appear_with_their_microversion(
    placement: Placement, method: str, path: str, before: str, since: str
) -> None:
    assert placement(method, path, version=before).status_code == 404
    assert placement(method, path, version=since).status_code == 200


#: Every placement route is admin-or-service by default: a member is refused.
DEMO_FORBIDDEN = [
    ("GET", "/resource_providers"),
    ("POST", "/resource_providers"),
    ("GET", "/resource_classes"),
    ("GET", "/traits"),
    ("PUT", "/traits/CUSTOM_X"),
    ("GET", "/allocation_candidates?resources=VCPU:1"),
    ("GET", "/allocations/11111111-1111-1111-1111-111111111111"),
    ("PUT", "/allocations/11111111-1111-1111-1111-111111111111"),
    ("POST", "/allocations"),
    ("GET", "/usages?project_id=someone-else"),
]


@pytest.mark.parametrize(("method", "path"), DEMO_FORBIDDEN)
def test_member_is_forbidden(cloud: TestClient, method: str, path: str) -> None:
    demo = Placement(cloud, issue(cloud, "demo"))
    body = {} if method in ("POST", "PUT") else None
    resp = demo(method, path, body)
    assert resp.status_code == 403, resp.text
    assert code_of(resp) == "placement.undefined_code"


def test_unauthenticated_is_401(cloud: TestClient) -> None:
    assert cloud.get("/placement/resource_providers").status_code == 401


def test_project_reader_may_read_own_usages(cloud: TestClient) -> None:
    token = issue(cloud, "demo")
    info = cloud.get(
        "/identity/v3/auth/tokens", headers={"X-Auth-Token": token, "X-Subject-Token": token}
    ).json()["token"]
    demo = Placement(cloud, token)
    own = demo("GET", f"/usages?project_id={info['project']['id']}")
    assert own.status_code == 200, own.text
    assert own.json() == {"usages": {}}
