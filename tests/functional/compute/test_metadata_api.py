"""The metadata API (/metadata): only requests signed by the network agent's proxy get answers."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from typing import Any

from kumo.agents.network.metadata_proxy import sign
from kumo.compute.db.instances import Instance, InstanceMetadata
from kumo.compute.metadata import signature
from tests.functional.compute.conftest import Cloud

PATH = "/metadata/openstack/latest/meta_data.json"


def signed(cloud: Cloud, instance_id: str, project_id: str = "") -> dict[str, str]:
    """The headers the network agent's proxy adds, with this cloud's shared secret."""
    secret = cloud.runtime.settings.metadata_proxy_shared_secret_value()
    return {
        "X-Instance-ID": instance_id,
        "X-Tenant-ID": project_id,
        "X-Instance-ID-Signature": signature(secret, instance_id),
    }


def server_with_data(cloud: Cloud) -> tuple[str, str]:
    """An instance with user_data and metadata → (uuid, project id)."""
    instance_uuid, _ = cloud.create_instance()
    with cloud.db.writer() as s:
        row = s.get(Instance, instance_uuid)
        assert row is not None
        row.user_data = base64.b64encode(b"#!/bin/sh\necho hello\n").decode()
        s.add(InstanceMetadata(instance_uuid=instance_uuid, key="role", value="web"))
        return instance_uuid, row.project_id


def test_the_proxy_and_the_api_agree_on_the_signature() -> None:
    assert sign("s3cret", "abc") == signature("s3cret", "abc")


def test_signed_request_gets_the_config_drive_documents(
    make_cloud: Callable[..., Any],
) -> None:
    with make_cloud() as cloud:
        instance_uuid, project_id = server_with_data(cloud)
        headers = signed(cloud, instance_uuid, project_id)
        meta = cloud.client.get(PATH, headers=headers)
        assert meta.status_code == 200, meta.text
        assert meta.json()["uuid"] == instance_uuid
        assert meta.json()["meta"] == {"role": "web"}
        dated = cloud.client.get(PATH.replace("latest", "2018-08-27"), headers=headers)
        assert dated.json()["uuid"] == instance_uuid
        user_data = cloud.client.get("/metadata/openstack/latest/user_data", headers=headers)
        assert user_data.content == b"#!/bin/sh\necho hello\n"
        listing = cloud.client.get("/metadata/openstack/latest", headers=headers).text.split()
        assert {"meta_data.json", "network_data.json", "user_data"} <= set(listing)
        ec2 = cloud.client.get("/metadata/ec2/latest/meta-data.json", headers=headers)
        assert ec2.json()["instance-id"] == f"i-{instance_uuid[:8]}"


def test_unsigned_forged_or_foreign_requests_are_refused(
    make_cloud: Callable[..., Any],
) -> None:
    with make_cloud() as cloud:
        instance_uuid, _ = server_with_data(cloud)
        assert cloud.client.get(PATH).status_code == 403
        forged = {"X-Instance-ID": instance_uuid, "X-Instance-ID-Signature": "0" * 64}
        assert cloud.client.get(PATH, headers=forged).status_code == 403
        wrong_key = {
            "X-Instance-ID": instance_uuid,
            "X-Instance-ID-Signature": signature("not-the-secret", instance_uuid),
        }
        assert cloud.client.get(PATH, headers=wrong_key).status_code == 403
        # A signed id of an instance that does not exist, or of another project's.
        missing = cloud.client.get(PATH, headers=signed(cloud, str(uuid.uuid4())))
        assert missing.status_code == 404
        other = cloud.client.get(PATH, headers=signed(cloud, instance_uuid, "other-project"))
        assert other.status_code == 404
