"""Key pairs: generation, import, fingerprints, microversions, ownership and quota."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from fastapi.testclient import TestClient

from tests.api.compute._resources import Caller, project_id, user_id
from tests.conftest import unique


def _ssh_public(kind: str = "ed25519") -> str:
    key: Any = ed25519.Ed25519PrivateKey.generate()
    if kind == "ecdsa":
        key = ec.generate_private_key(ec.SECP256R1())
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )


def _md5(public_key: str) -> str:
    digest = hashlib.md5(base64.b64decode(public_key.split()[1]), usedforsecurity=False)
    return ":".join(f"{b:02x}" for b in digest.digest())


def test_generate_returns_private_key_once(nova_demo: Caller) -> None:
    name = unique("kp")
    resp = nova_demo.post("/os-keypairs", {"keypair": {"name": name}})
    assert resp.status_code == 200  # 2.1
    kp = resp.json()["keypair"]
    assert set(kp) == {"name", "public_key", "fingerprint", "user_id", "private_key"}
    assert kp["private_key"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert kp["public_key"].startswith("ssh-rsa ")
    assert kp["fingerprint"] == _md5(kp["public_key"])
    shown = nova_demo.get(f"/os-keypairs/{name}").json()["keypair"]
    assert "private_key" not in shown
    assert set(shown) == {
        "name",
        "public_key",
        "fingerprint",
        "user_id",
        "created_at",
        "updated_at",
        "deleted_at",
        "deleted",
        "id",
    }
    assert shown["deleted"] is False and isinstance(shown["id"], int)


def test_import_ssh_keys(nova_demo: Caller) -> None:
    for kind in ("ed25519", "ecdsa"):
        public = _ssh_public(kind) + " me@host"
        resp = nova_demo.post(
            "/os-keypairs", {"keypair": {"name": unique("imp"), "public_key": public}}, "2.2"
        )
        assert resp.status_code == 201
        kp = resp.json()["keypair"]
        assert kp["type"] == "ssh"
        assert "private_key" not in kp
        assert kp["public_key"] == public
        assert kp["fingerprint"] == _md5(public)


def _certificate() -> str:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kumo-test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def test_import_x509_certificate(nova_demo: Caller) -> None:
    pem = _certificate()
    body = {"keypair": {"name": unique("x509"), "type": "x509", "public_key": pem}}
    resp = nova_demo.post("/os-keypairs", body, "2.2")
    assert resp.status_code == 201
    kp = resp.json()["keypair"]
    assert kp["type"] == "x509"
    assert len(kp["fingerprint"].split(":")) == 20  # SHA-1, colon hex
    generated = nova_demo.post(
        "/os-keypairs", {"keypair": {"name": unique("w"), "type": "x509"}}, "2.2"
    )
    assert generated.status_code == 201
    made = generated.json()["keypair"]
    assert made["type"] == "x509" and made["public_key"].startswith("-----BEGIN CERTIFICATE-----")
    assert base64.b64decode(made["private_key"])  # a PKCS#12 bundle
    assert nova_demo.get(f"/os-keypairs/{made['name']}", "2.2").json()["keypair"]["type"] == "x509"
    bad = {"keypair": {"name": unique("x509"), "type": "x509", "public_key": "nope"}}
    assert nova_demo.post("/os-keypairs", bad, "2.2").status_code == 400
    assert (
        nova_demo.post("/os-keypairs", {"keypair": {"name": "t", "type": "pgp"}}, "2.2").status_code
        == 400
    )


def test_import_rejects_garbage(nova_demo: Caller) -> None:
    for bad in ("not a key", "ssh-rsa AAAAnotbase64!!", ""):
        resp = nova_demo.post("/os-keypairs", {"keypair": {"name": unique("b"), "public_key": bad}})
        assert resp.status_code == 400, bad
        assert resp.json()["badRequest"]["message"] == (
            "Keypair data is invalid: failed to generate fingerprint"
        )


def test_name_rules_and_duplicates(nova_demo: Caller) -> None:
    name = unique("dup")
    assert nova_demo.post("/os-keypairs", {"keypair": {"name": name}}).status_code == 200
    again = nova_demo.post("/os-keypairs", {"keypair": {"name": name}})
    assert again.status_code == 409
    assert again.json()["conflictingRequest"]["message"] == f"Key pair '{name}' already exists."
    assert nova_demo.post("/os-keypairs", {"keypair": {"name": "a.b@c"}}).status_code == 400
    dotted = {"keypair": {"name": "a.b@c", "public_key": _ssh_public()}}
    assert nova_demo.post("/os-keypairs", dotted, "2.92").status_code == 201
    assert nova_demo.post("/os-keypairs", {"keypair": {}}).status_code == 400
    assert (
        nova_demo.post("/os-keypairs", {"keypair": {"name": "x", "type": "ssh"}}).status_code == 400
    )


def test_2_92_requires_a_public_key(nova_demo: Caller) -> None:
    resp = nova_demo.post("/os-keypairs", {"keypair": {"name": unique("g")}}, "2.92")
    assert resp.status_code == 400


def test_list_shapes_and_delete_status(nova_demo: Caller) -> None:
    name = unique("l")
    nova_demo.post("/os-keypairs", {"keypair": {"name": name}})
    old = nova_demo.get("/os-keypairs").json()["keypairs"]
    entry = next(k["keypair"] for k in old if k["keypair"]["name"] == name)
    assert set(entry) == {"name", "public_key", "fingerprint"}
    new = nova_demo.get("/os-keypairs", "2.2").json()["keypairs"]
    assert next(k["keypair"] for k in new if k["keypair"]["name"] == name)["type"] == "ssh"
    assert nova_demo.delete(f"/os-keypairs/{name}").status_code == 202
    name2 = unique("l")
    nova_demo.post("/os-keypairs", {"keypair": {"name": name2}})
    assert nova_demo.delete(f"/os-keypairs/{name2}", "2.2").status_code == 204
    gone = nova_demo.get(f"/os-keypairs/{name2}")
    assert gone.status_code == 404
    assert "not found for user" in gone.json()["itemNotFound"]["message"]


def test_pagination_2_35(nova_alt: Caller) -> None:
    names = sorted(f"p{i}-{unique('k')}" for i in range(3))
    for n in names:
        nova_alt.post("/os-keypairs", {"keypair": {"name": n, "public_key": _ssh_public()}})
    page = nova_alt.get("/os-keypairs", "2.35", params={"limit": 2}).json()
    assert [k["keypair"]["name"] for k in page["keypairs"]] == names[:2]
    assert "keypairs_links" in page
    rest = nova_alt.get("/os-keypairs", "2.35", params={"limit": 2, "marker": names[1]}).json()
    assert [k["keypair"]["name"] for k in rest["keypairs"]] == names[2:]
    assert nova_alt.get("/os-keypairs", "2.35", params={"marker": "nope"}).status_code == 400
    # before 2.35 limit is ignored
    assert len(nova_alt.get("/os-keypairs", params={"limit": 1}).json()["keypairs"]) == 3


def test_keypairs_are_per_user(cloud: TestClient, nova_demo: Caller, nova_alt: Caller) -> None:
    name = unique("mine")
    nova_demo.post("/os-keypairs", {"keypair": {"name": name}})
    assert nova_alt.get(f"/os-keypairs/{name}").status_code == 404
    assert nova_alt.delete(f"/os-keypairs/{name}").status_code == 404
    assert name not in {
        k["keypair"]["name"] for k in nova_alt.get("/os-keypairs").json()["keypairs"]
    }
    # another user's key pairs: only admins may name a user (2.10)
    demo_user = user_id(cloud, nova_demo)
    peek = nova_alt.get(f"/os-keypairs/{name}", "2.10", params={"user_id": demo_user})
    assert peek.status_code == 403
    assert peek.json()["forbidden"]["code"] == 403


def test_admin_acts_for_other_users(
    cloud: TestClient, nova_admin: Caller, nova_demo: Caller
) -> None:
    demo_user = user_id(cloud, nova_demo)
    name = unique("for-demo")
    made = nova_admin.post(
        "/os-keypairs",
        {"keypair": {"name": name, "user_id": demo_user, "public_key": _ssh_public()}},
        "2.10",
    )
    assert made.status_code == 201
    assert made.json()["keypair"]["user_id"] == demo_user
    assert nova_demo.get(f"/os-keypairs/{name}").status_code == 200
    listed = nova_admin.get("/os-keypairs", "2.10", params={"user_id": demo_user}).json()
    assert name in {k["keypair"]["name"] for k in listed["keypairs"]}
    assert nova_admin.get(f"/os-keypairs/{name}").status_code == 404  # not the admin's own
    deleted = nova_admin.delete(f"/os-keypairs/{name}?user_id={demo_user}", "2.10")
    assert deleted.status_code == 204
    # user_id in the body is refused before 2.10
    old = nova_admin.post("/os-keypairs", {"keypair": {"name": "x", "user_id": demo_user}})
    assert old.status_code == 400


def test_key_pair_quota(cloud: TestClient, nova_admin: Caller, nova_demo: Caller) -> None:
    demo_project = project_id(cloud, nova_demo)
    nova_admin.put(f"/os-quota-sets/{demo_project}", {"quota_set": {"key_pairs": 2}})
    for _ in range(2):
        ok = nova_demo.post("/os-keypairs", {"keypair": {"name": unique("q")}})
        assert ok.status_code == 200
    over = nova_demo.post("/os-keypairs", {"keypair": {"name": unique("q")}})
    assert over.status_code == 403
    assert over.json() == {
        "forbidden": {"code": 403, "message": "Quota exceeded, too many key pairs."}
    }
