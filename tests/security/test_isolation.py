"""One project's resources stay out of another's reach; roles limit what a caller may do.

Table-driven over resource types. A row runs as soon as its service serves the
routes it needs (decided from the route table) and is skipped with the reason
until then, so compute, image and networking rows start running when they land.

- another project's member can neither see, change nor delete the resource (404,
  or 403 where the real service says so), and does not find it in lists;
- a reader of the owning project cannot create one;
- a member cannot do what only an admin may.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ADMIN_PASSWORD, issue, password_auth, unique
from tests.security.helpers import find


@dataclass
class People:
    """Tokens and ids of the callers the tests need."""

    admin: str
    demo: str  # member (and reader) of project demo
    alt: str  # member of project alt_demo
    reader: str  # only reader of project demo
    ids: dict[str, str] = field(default_factory=dict)


def _one_id(cloud: TestClient, token: str, path: str, key: str) -> str:
    resp = cloud.get(path, headers={"X-Auth-Token": token})
    assert resp.status_code == 200, resp.text
    return str(resp.json()[key][0]["id"])


@pytest.fixture
def people(cloud: TestClient) -> People:
    admin = issue(cloud)
    h = {"X-Auth-Token": admin}
    demo_project = _one_id(cloud, admin, "/identity/v3/projects?name=demo", "projects")
    reader_role = _one_id(cloud, admin, "/identity/v3/roles?name=reader", "roles")
    demo_user = _one_id(cloud, admin, "/identity/v3/users?name=demo", "users")
    name = unique("reader")
    body = {"user": {"name": name, "password": ADMIN_PASSWORD, "domain_id": "default"}}
    resp = cloud.post("/identity/v3/users", json=body, headers=h)
    assert resp.status_code == 201, resp.text
    uid = resp.json()["user"]["id"]
    grant = f"/identity/v3/projects/{demo_project}/users/{uid}/roles/{reader_role}"
    assert cloud.put(grant, headers=h).status_code == 204
    auth = password_auth(name, ADMIN_PASSWORD, project="demo")
    resp = cloud.post("/identity/v3/auth/tokens", json=auth)
    assert resp.status_code == 201, resp.text
    return People(
        admin=admin,
        demo=issue(cloud, "demo"),
        alt=issue(cloud, "alt_demo"),
        reader=resp.headers["X-Subject-Token"],
        ids={"demo_project": demo_project, "demo_user": demo_user},
    )


@dataclass
class Resource:
    """A kind of resource a project member owns, and how to make and find one."""

    name: str
    prefix: str
    collection: str  # create with POST here; list with GET when served
    item: str  # show/update/delete; "{}" is the id
    body: Callable[[People], dict[str, Any]]
    id_of: Callable[[dict[str, Any]], str]
    #: What another project's member gets for the item (Keystone's own rules say 403).
    foreign: frozenset[int] = frozenset({404})
    headers: dict[str, str] = field(default_factory=dict)
    #: Routes that must exist besides the collection and item ones ((method, path)).
    needs: tuple[tuple[str, str], ...] = ()
    #: False for what a user owns (credentials, keypairs): any role may make its own.
    project_owned: bool = True

    def require(self) -> None:
        """Skip, saying why, while the service does not serve this resource."""
        wanted = [("POST", self.collection), ("GET", self.item), *self.needs]
        missing = [f"{m} {self.prefix}{p}" for m, p in wanted if not find(self.prefix, m, p)]
        if missing:
            pytest.skip(f"{self.name}: not served yet ({', '.join(missing)})")

    def url(self, rid: str = "") -> str:
        """The collection URL, or the item URL for ``rid``."""
        return self.prefix + (self.item.replace("{}", rid) if rid else self.collection)


NOVA = {"OpenStack-API-Version": "compute 2.79"}

RESOURCES = [
    Resource(
        "identity credential",
        "/identity",
        "/v3/credentials",
        "/v3/credentials/{}",
        lambda p: {
            "credential": {
                "type": "ec2",
                "user_id": p.ids["demo_user"],
                "project_id": p.ids["demo_project"],
                "blob": json.dumps({"access": unique("a"), "secret": "s"}),
            }
        },
        lambda b: b["credential"]["id"],
        foreign=frozenset({403, 404}),
        project_owned=False,
    ),
    Resource(
        "compute keypair",
        "/compute",
        "/v2.1/os-keypairs",
        "/v2.1/os-keypairs/{}",
        lambda p: {"keypair": {"name": unique("kp")}},
        lambda b: b["keypair"]["name"],
        headers=NOVA,
        project_owned=False,
    ),
    Resource(
        "compute server",
        "/compute",
        "/v2.1/servers",
        "/v2.1/servers/{}",
        lambda p: {
            "server": {
                "name": unique("vm"),
                "flavorRef": p.ids["flavor"],
                "imageRef": p.ids["image"],
                "networks": "none",
            }
        },
        lambda b: b["server"]["id"],
        headers=NOVA,
        needs=(("GET", "/v2.1/flavors"),),
    ),
    Resource(
        "image",
        "/image",
        "/v2/images",
        "/v2/images/{}",
        lambda p: {"name": unique("img"), "disk_format": "raw", "container_format": "bare"},
        lambda b: b["id"],
    ),
    Resource(
        "network",
        "/networking",
        "/v2.0/networks",
        "/v2.0/networks/{}",
        lambda p: {"network": {"name": unique("net")}},
        lambda b: b["network"]["id"],
    ),
    Resource(
        "port",
        "/networking",
        "/v2.0/ports",
        "/v2.0/ports/{}",
        lambda p: {"port": {"network_id": p.ids["network"], "name": unique("port")}},
        lambda b: b["port"]["id"],
        needs=(("POST", "/v2.0/networks"),),
    ),
]


def _prepare(cloud: TestClient, res: Resource, people: People) -> None:
    """Make what a resource's body refers to (a flavor and image, a network)."""
    if res.name == "compute server":
        people.ids |= {"flavor": _a_flavor(cloud, people), "image": _an_image(cloud, people)}
    if res.name == "port":
        net = {"network": {"name": unique("net")}}
        resp = cloud.post(
            "/networking/v2.0/networks", json=net, headers={"X-Auth-Token": people.demo}
        )
        assert resp.status_code == 201, resp.text
        people.ids["network"] = resp.json()["network"]["id"]


def _a_flavor(cloud: TestClient, people: People) -> str:
    """The first flavor, made by the admin when the cloud has none."""
    admin = {"X-Auth-Token": people.admin, **NOVA}
    flavors = cloud.get("/compute/v2.1/flavors", headers=admin).json().get("flavors", [])
    if flavors:
        return str(flavors[0]["id"])
    body = {"flavor": {"name": unique("tiny"), "ram": 64, "vcpus": 1, "disk": 1}}
    made = cloud.post("/compute/v2.1/flavors", json=body, headers=admin)
    assert made.status_code == 200, made.text
    return str(made.json()["flavor"]["id"])


def _an_image(cloud: TestClient, people: People) -> str:
    """A public active image, made and uploaded by the admin."""
    admin = {"X-Auth-Token": people.admin}
    body = {"name": unique("img"), "disk_format": "raw", "container_format": "bare"}
    made = cloud.post("/image/v2/images", json=body | {"visibility": "public"}, headers=admin)
    if made.status_code != 201 or not find("/image", "PUT", "/v2/images/{}/file"):
        pytest.skip(f"compute server: cannot make an image to boot ({made.status_code})")
    image_id = made.json()["id"]
    data = admin | {"Content-Type": "application/octet-stream"}
    put = cloud.put(f"/image/v2/images/{image_id}/file", content=b"\0" * 1024, headers=data)
    assert put.status_code == 204, put.text
    return str(image_id)


def _create(cloud: TestClient, res: Resource, people: People, token: str) -> Any:
    return cloud.post(
        res.url(), json=res.body(people), headers={"X-Auth-Token": token, **res.headers}
    )


@pytest.mark.parametrize("res", RESOURCES, ids=[r.name for r in RESOURCES])
def test_another_project_cannot_reach_the_resource(
    cloud: TestClient, people: People, res: Resource
) -> None:
    res.require()
    _prepare(cloud, res, people)
    made = _create(cloud, res, people, people.demo)
    assert made.status_code in (200, 201, 202), made.text
    rid = res.id_of(made.json())
    alt = {"X-Auth-Token": people.alt, **res.headers}
    for method in ("GET", "DELETE"):
        resp = cloud.request(method, res.url(rid), headers=alt)
        assert resp.status_code in res.foreign, (res.name, method, resp.text)
    listed = cloud.get(res.url(), headers=alt)
    if listed.status_code == 200:
        assert rid not in listed.text, f"{res.name} {rid} is listed to another project"
    owner = cloud.get(res.url(rid), headers={"X-Auth-Token": people.demo, **res.headers})
    assert owner.status_code == 200, owner.text  # still there, and still the owner's


@pytest.mark.parametrize("res", RESOURCES, ids=[r.name for r in RESOURCES])
def test_a_reader_cannot_create(cloud: TestClient, people: People, res: Resource) -> None:
    if not res.project_owned:
        pytest.skip(f"{res.name}: every role may create its own (as upstream)")
    res.require()
    _prepare(cloud, res, people)
    resp = _create(cloud, res, people, people.reader)
    assert resp.status_code == 403, (res.name, resp.status_code, resp.text)


#: (name, prefix, method, path, body): what only an admin may do.
ADMIN_ONLY: list[tuple[str, str, str, str, dict[str, Any] | None]] = [
    ("create project", "/identity", "POST", "/v3/projects", {"project": {"name": "p"}}),
    ("create user", "/identity", "POST", "/v3/users", {"user": {"name": "u"}}),
    ("create role", "/identity", "POST", "/v3/roles", {"role": {"name": "r"}}),
    ("list users", "/identity", "GET", "/v3/users", None),
    (
        "create flavor",
        "/compute",
        "POST",
        "/v2.1/flavors",
        {"flavor": {"name": "f", "ram": 64, "vcpus": 1, "disk": 1}},
    ),
    ("list hypervisors", "/compute", "GET", "/v2.1/os-hypervisors", None),
    (
        "create public image",
        "/image",
        "POST",
        "/v2/images",
        {"name": "i", "visibility": "public"},
    ),
    (
        "create shared network",
        "/networking",
        "POST",
        "/v2.0/networks",
        {"network": {"name": "n", "shared": True}},
    ),
    ("list resource providers", "/placement", "GET", "/resource_providers", None),
]


@pytest.mark.parametrize(
    ("name", "prefix", "method", "path", "body"), ADMIN_ONLY, ids=[a[0] for a in ADMIN_ONLY]
)
def test_a_member_cannot_do_admin_actions(
    cloud: TestClient,
    people: People,
    name: str,
    prefix: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    if find(prefix, method, path) is None:
        pytest.skip(f"{name}: {method} {prefix}{path} is not served yet")
    headers = {"X-Auth-Token": people.demo, **(NOVA if prefix == "/compute" else {})}
    resp = cloud.request(method, prefix + path, json=body, headers=headers)
    assert resp.status_code == 403, (name, resp.status_code, resp.text)
