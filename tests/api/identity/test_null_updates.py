"""Setting a required attribute to null is a 400 in Keystone's format, never a 500.

Keystone's update schemas type ``name`` and ``enabled`` as string and boolean (not
nullable); a PATCH that sends them as ``null`` used to reach the database's NOT
NULL constraint (found by `make fuzz`: PATCH /v3/domains/{id} with name null).
"""

import pytest
from fastapi.testclient import TestClient

from tests.conftest import unique

V3 = "/identity/v3"

#: (collection, body key, creation body, attributes that may not be null)
CASES = [
    ("domains", "domain", {}, ("name", "enabled")),
    ("projects", "project", {}, ("name", "enabled")),
    ("users", "user", {}, ("name", "enabled")),
    ("groups", "group", {}, ("name",)),
    ("roles", "role", {}, ("name",)),
    ("services", "service", {"type": "x-test"}, ("type", "enabled")),
]


@pytest.mark.parametrize(("path", "kind", "extra", "fields"), CASES, ids=[c[0] for c in CASES])
def test_null_for_a_required_attribute_is_refused(
    admin: TestClient, path: str, kind: str, extra: dict[str, str], fields: tuple[str, ...]
) -> None:
    made = admin.post(f"{V3}/{path}", json={kind: {"name": unique(kind), **extra}})
    assert made.status_code == 201, made.text
    rid = made.json()[kind]["id"]
    for field in fields:
        resp = admin.patch(f"{V3}/{path}/{rid}", json={kind: {field: None}})
        assert resp.status_code == 400, (path, field, resp.text)
        assert resp.json()["error"]["code"] == 400
    still = admin.get(f"{V3}/{path}/{rid}")
    assert still.status_code == 200
    assert still.json()[kind]["name"] == made.json()[kind]["name"]
