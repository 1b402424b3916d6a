"""Identity's tables: Keystone's data model, trimmed to what the API exposes.

Domains are projects with ``is_domain`` set (as in Keystone), so a top-level
project's ``parent_id`` is its domain and names are unique per parent domain.
Domains themselves have ``domain_id == ROOT_DOMAIN_ID``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kumo.common.db import Base, JSONType, UTCDateTime, utcnow

#: The parent of every domain; never returned by the API.
ROOT_DOMAIN_ID = "<<keystone.domain.root>>"
#: The ``domain_id`` of a global role.
NULL_DOMAIN_ID = "<<null>>"

ID = String(64)
NAME = String(255)


class Project(Base):
    """A project or, with ``is_domain``, a domain."""

    __tablename__ = "project"
    __table_args__ = (UniqueConstraint("domain_id", "name"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME)
    domain_id: Mapped[str] = mapped_column(ID, index=True)
    parent_id: Mapped[str | None] = mapped_column(ID, index=True)
    is_domain: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    options: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class ProjectTag(Base):
    """A tag on a project."""

    __tablename__ = "project_tag"

    project_id: Mapped[str] = mapped_column(
        ID, ForeignKey("project.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(NAME, primary_key=True)


class User(Base):
    """A local user with its current password hash."""

    __tablename__ = "user"
    __table_args__ = (UniqueConstraint("domain_id", "name"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME)
    domain_id: Mapped[str] = mapped_column(ID, index=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    default_project_id: Mapped[str | None] = mapped_column(ID)
    extra: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    options: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_active_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    failed_auth_count: Mapped[int] = mapped_column(Integer, default=0)
    failed_auth_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Password(Base):
    """A user's password hashes, newest last (history for reuse checks)."""

    __tablename__ = "password"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ID, ForeignKey("user.id", ondelete="CASCADE"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    self_service: Mapped[bool] = mapped_column(Boolean, default=False)


class Group(Base):
    """A group of users in a domain."""

    __tablename__ = "group"
    __table_args__ = (UniqueConstraint("domain_id", "name"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME)
    domain_id: Mapped[str] = mapped_column(ID, index=True)
    description: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class Membership(Base):
    """A user's membership of a group."""

    __tablename__ = "membership"

    user_id: Mapped[str] = mapped_column(
        ID, ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[str] = mapped_column(
        ID, ForeignKey("group.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Role(Base):
    """A role, global (``domain_id == NULL_DOMAIN_ID``) or specific to a domain."""

    __tablename__ = "role"
    __table_args__ = (UniqueConstraint("name", "domain_id"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME)
    domain_id: Mapped[str] = mapped_column(ID, default=NULL_DOMAIN_ID)
    description: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    options: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class ImpliedRole(Base):
    """``prior_role`` implies ``implied_role`` (admin implies member, …)."""

    __tablename__ = "implied_role"

    prior_role_id: Mapped[str] = mapped_column(
        ID, ForeignKey("role.id", ondelete="CASCADE"), primary_key=True
    )
    implied_role_id: Mapped[str] = mapped_column(
        ID, ForeignKey("role.id", ondelete="CASCADE"), primary_key=True
    )


class Assignment(Base):
    """A role granted to a user or group on a project, a domain or the system.

    ``type`` is one of UserProject, GroupProject, UserDomain, GroupDomain,
    UserSystem, GroupSystem; for the system ``target_id`` is ``"system"``.
    """

    __tablename__ = "assignment"
    __table_args__ = (Index("ix_assignment_actor", "actor_id"),)

    type: Mapped[str] = mapped_column(String(16), primary_key=True)
    actor_id: Mapped[str] = mapped_column(ID, primary_key=True)
    target_id: Mapped[str] = mapped_column(ID, primary_key=True, index=True)
    role_id: Mapped[str] = mapped_column(ID, primary_key=True, index=True)
    inherited: Mapped[bool] = mapped_column(Boolean, primary_key=True, default=False)


class Region(Base):
    """A region of the catalog, optionally inside a parent region."""

    __tablename__ = "region"

    id: Mapped[str] = mapped_column(NAME, primary_key=True)
    description: Mapped[str] = mapped_column(Text, default="")
    parent_region_id: Mapped[str | None] = mapped_column(NAME)
    extra: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class Service(Base):
    """A catalog service (type, name, description live in type/extra)."""

    __tablename__ = "service"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    type: Mapped[str] = mapped_column(NAME)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    extra: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class Endpoint(Base):
    """One interface URL of a service in a region."""

    __tablename__ = "endpoint"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    service_id: Mapped[str] = mapped_column(
        ID, ForeignKey("service.id", ondelete="CASCADE"), index=True
    )
    interface: Mapped[str] = mapped_column(String(8))
    url: Mapped[str] = mapped_column(Text)
    region_id: Mapped[str | None] = mapped_column(NAME)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    extra: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class Credential(Base):
    """A credential blob (EC2 keys, TOTP secrets, …), encrypted at rest."""

    __tablename__ = "credential"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    user_id: Mapped[str] = mapped_column(ID, index=True)
    project_id: Mapped[str | None] = mapped_column(ID)
    type: Mapped[str] = mapped_column(NAME)
    encrypted_blob: Mapped[str] = mapped_column(Text)
    extra: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class ApplicationCredential(Base):
    """A user's delegated secret for one project, with a subset of their roles."""

    __tablename__ = "application_credential"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME)
    user_id: Mapped[str] = mapped_column(ID, index=True)
    project_id: Mapped[str | None] = mapped_column(ID)
    system: Mapped[str | None] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    unrestricted: Mapped[bool] = mapped_column(Boolean, default=False)
    role_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Superseded by the access_rule tables (migration 0003 copied it there); kept
    # so that no migration drops data.
    access_rules: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class AccessRule(Base):
    """An API call a user's application credentials may be limited to.

    Rules belong to the user and outlive the application credentials using
    them (as in Keystone), so a later credential can name one by id.
    """

    __tablename__ = "access_rule"
    __table_args__ = (UniqueConstraint("user_id", "service", "path", "method"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    user_id: Mapped[str] = mapped_column(ID, index=True)
    service: Mapped[str] = mapped_column(String(64))
    # Keystone's request schema allows 225 characters (its column is 128).
    path: Mapped[str] = mapped_column(String(225))
    method: Mapped[str] = mapped_column(String(16))


class ApplicationCredentialAccessRule(Base):
    """Links an application credential to one of its access rules."""

    __tablename__ = "application_credential_access_rule"

    # Foreign keys named by hand: conventional names pass PostgreSQL's 63 characters.
    application_credential_id: Mapped[str] = mapped_column(
        ID,
        ForeignKey(
            "application_credential.id", ondelete="CASCADE", name="fk_app_cred_access_rule_app_cred"
        ),
        primary_key=True,
    )
    # No cascade: a rule in use cannot be deleted.
    access_rule_id: Mapped[str] = mapped_column(
        ID,
        ForeignKey("access_rule.id", name="fk_app_cred_access_rule_rule"),
        primary_key=True,
        index=True,
    )


class RevocationEvent(Base):
    """Tokens matching every non-null field and issued before ``issued_before`` are revoked."""

    __tablename__ = "revocation_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str | None] = mapped_column(ID, index=True)
    project_id: Mapped[str | None] = mapped_column(ID)
    domain_id: Mapped[str | None] = mapped_column(ID)
    role_id: Mapped[str | None] = mapped_column(ID)
    audit_id: Mapped[str | None] = mapped_column(String(32), index=True)
    audit_chain_id: Mapped[str | None] = mapped_column(String(32))
    application_credential_id: Mapped[str | None] = mapped_column(ID)
    issued_before: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class BootstrapState(Base):
    """Steps of ``kumo up``'s bootstrap already done, so a half-finished one resumes."""

    __tablename__ = "bootstrap_state"

    step: Mapped[str] = mapped_column(NAME, primary_key=True)
    done_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class IdentityRevision(Base):
    """A counter bumped by every transaction that changes identity data.

    Validated tokens are cached per process; a cached validation is reused only
    while this revision is unchanged, so a grant, a revocation or a disabled
    user takes effect at once in every process.
    """

    __tablename__ = "identity_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(Integer, default=0)


class Policy(Base):
    """A policy blob stored for other services (Keystone stores; it does not enforce them)."""

    __tablename__ = "policy"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    type: Mapped[str] = mapped_column(NAME)
    blob: Mapped[str] = mapped_column(Text)
    extra: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class EndpointGroup(Base):
    """OS-EP-FILTER: a named filter over endpoints (service_id, interface, region_id)."""

    __tablename__ = "endpoint_group"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME)
    description: Mapped[str | None] = mapped_column(Text)
    filters: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class ProjectEndpointGroup(Base):
    """A project whose catalog is limited to the endpoints of its endpoint groups."""

    __tablename__ = "project_endpoint_group"

    endpoint_group_id: Mapped[str] = mapped_column(
        ID, ForeignKey("endpoint_group.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[str] = mapped_column(ID, primary_key=True, index=True)
