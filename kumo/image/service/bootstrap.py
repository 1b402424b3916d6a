"""The default image every cloud starts with: a tiny, valid, public qcow2.

``cirros-kumo-tiny`` is a placeholder (1 MiB of empty disk, property
``kumo_placeholder=true``) until a real guest image ships with Kumo; it lets
clients and tests find an active public image straight after `kumo up`.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import uuid
import zlib

from sqlalchemy import select

from kumo.common.config import Settings
from kumo.common.db import Database, utcnow
from kumo.image.db.models import Image, ImageProperty
from kumo.image.service import inspector, store

log = logging.getLogger(__name__)

DEFAULT_IMAGE_NAME = "cirros-kumo-tiny"
#: The same id in every cloud, so registering twice is a no-op (and easy to find).
DEFAULT_IMAGE_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "kumo:image:" + DEFAULT_IMAGE_NAME))

#: ``qemu-img create -f qcow2 -o compat=1.1 tiny.qcow2 1M``, zlib-compressed:
#: embedded so that bootstrapping needs no tool and always yields the same bytes.
_TINY_QCOW2 = (
    "eNrt0MFKw0AQANBN4wf4CfsNfoQgePHkOTZbDLRJ2KxoPfnZghdTUbCXNp59b9mBgZ1hZu+ubz5CCHU4dvkrHlRf"
    "sT7KqrDMxXzHn+Sxfr+fS99CaLtc9vGhK8u6VOsh56exLK1YpZeSct9sY9uUJm66bTr5vl4PuzGnaeqGPpb9mM5t"
    "dejft6mNt1cx9SV3aTo1ftg2r/uY02Y9PPVlOjt+mPfcNeO08JNXVW6e49HOAQAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA4M9WvgAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAODfq74PAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAzD4BH6QwbQ=="
)


def tiny_qcow2() -> bytes:
    """The placeholder disk: a valid, empty qcow2 of 1 MiB virtual size."""
    return zlib.decompress(base64.b64decode(_TINY_QCOW2))


def _admin_project_id(db: Database) -> str | None:
    # The image is owned by the admin project, as devstack's images are.
    from kumo.identity.db.models import Project

    with db.reader() as session:
        return session.scalar(
            select(Project.id).where(Project.name == "admin", Project.is_domain.is_(False))
        )


def register_default_image(settings: Settings, db: Database) -> str:
    """Register ``cirros-kumo-tiny`` (public, active) unless it exists; returns its id."""
    with db.reader() as session:
        if session.get(Image, DEFAULT_IMAGE_ID) is not None:
            return DEFAULT_IMAGE_ID
    data = tiny_qcow2()
    path = store.data_path(settings.state_dir, DEFAULT_IMAGE_ID)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    virtual_size = 1 << 20
    try:
        virtual_size = inspector.inspect(path, "qcow2").virtual_size or virtual_size
    except inspector.UnsafeImage as exc:  # only when qemu-img is missing
        log.warning("default image not inspected by qemu-img: %s", exc)
    add_public_image(
        db,
        image_id=DEFAULT_IMAGE_ID,
        name=DEFAULT_IMAGE_NAME,
        data=data,
        location=path.name,
        virtual_size=virtual_size,
        properties={"kumo_placeholder": "true"},
    )
    log.info("registered the default image %s (%s)", DEFAULT_IMAGE_NAME, DEFAULT_IMAGE_ID)
    return DEFAULT_IMAGE_ID


def add_public_image(
    db: Database,
    *,
    image_id: str,
    name: str,
    data: bytes,
    location: str,
    virtual_size: int,
    properties: dict[str, str],
    disk_format: str = "qcow2",
    container_format: str = "bare",
) -> None:
    """Record an active public image owned by the admin project, whose data is already stored.

    A no-op when ``image_id`` exists, so `kumo up` may run it every time.
    """
    owner = _admin_project_id(db)
    now = utcnow()
    with db.writer() as session:
        if session.get(Image, image_id) is not None:
            return
        image = Image(
            id=image_id,
            name=name,
            owner=owner,
            status="active",
            visibility="public",
            protected=False,
            os_hidden=False,
            disk_format=disk_format,
            container_format=container_format,
            size=len(data),
            virtual_size=virtual_size,
            checksum=hashlib.md5(data, usedforsecurity=False).hexdigest(),
            os_hash_algo=store.HASH_ALGO,
            os_hash_value=hashlib.new(store.HASH_ALGO, data).hexdigest(),
            min_disk=0,
            min_ram=0,
            location=location,
            created_at=now,
            updated_at=now,
        )
        image.properties = [ImageProperty(name=k, value=v) for k, v in properties.items()]
        session.add(image)
