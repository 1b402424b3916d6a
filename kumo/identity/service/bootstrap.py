"""Identity's share of ``kumo up``: what keystone-manage bootstrap and devstack create.

Every step is idempotent and runs in its own transaction, so a bootstrap
interrupted at any point simply resumes where it stopped on the next run.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from kumo.identity.db.models import (
    ROOT_DOMAIN_ID,
    Assignment,
    BootstrapState,
    Endpoint,
    ImpliedRole,
    Project,
    Region,
    Role,
    Service,
    User,
)
from kumo.identity.service.auth import current_password
from kumo.identity.service.core import Identity, new_id
from kumo.identity.service.passwords import hash_password, verify_password
from kumo.identity.service.roles import SYSTEM_TARGET

DEFAULT_DOMAIN = "default"
#: admin ⊃ manager ⊃ member ⊃ reader, as current Keystone bootstraps them.
ROLE_CHAIN = ("admin", "manager", "member", "reader")
EXTRA_ROLES = ("service",)
PROJECTS = ("admin", "demo", "alt_demo", "service")
#: user -> [(role, project)], as devstack grants them.
USERS = {
    "admin": [("admin", "admin"), ("admin", "demo"), ("admin", "alt_demo")],
    "demo": [("member", "demo"), ("reader", "demo")],
    "alt_demo": [("member", "alt_demo"), ("reader", "alt_demo")],
}


@dataclass
class CatalogEntry:
    """A service and the path under the public URL its endpoints live at."""

    type: str
    name: str
    path: str
    description: str = ""


IDENTITY_CATALOG = [CatalogEntry("identity", "keystone", "/identity", "Identity Service")]

#: Every service `kumo up` serves, at devstack's paths.
FULL_CATALOG = [
    *IDENTITY_CATALOG,
    CatalogEntry("compute", "nova", "/compute/v2.1", "Compute Service"),
    CatalogEntry("image", "glance", "/image", "Image Service"),
    CatalogEntry("network", "neutron", "/networking", "Neutron Service"),
    CatalogEntry("placement", "placement", "/placement", "Placement Service"),
]

#: The user the services call each other as (devstack's nova/glance/neutron users in one).
SERVICE_USER = "kumo"
SERVICE_PROJECT = "service"


def _role_id(s: Session, name: str) -> str:
    role = s.scalars(select(Role).where(Role.name == name, Role.domain_id == "<<null>>")).first()
    if role is None:
        # keystone-manage bootstrap makes the default roles immutable.
        role = Role(id=new_id(), name=name, options={"immutable": True}, extra={})
        s.add(role)
        s.flush()
    return role.id


def _project_id(s: Session, name: str) -> str:
    project = s.scalars(
        select(Project).where(Project.domain_id == DEFAULT_DOMAIN, Project.name == name)
    ).first()
    if project is None:
        project = Project(
            id=new_id(),
            name=name,
            domain_id=DEFAULT_DOMAIN,
            parent_id=DEFAULT_DOMAIN,
            is_domain=False,
            enabled=True,
            description=f"Bootstrap project {name}",
            extra={},
            options={},
        )
        s.add(project)
        s.flush()
    return project.id


def _grant(s: Session, kind: str, actor: str, target: str, role: str) -> None:
    key = (kind, actor, target, role, False)
    if s.get(Assignment, key) is None:
        s.add(
            Assignment(type=kind, actor_id=actor, target_id=target, role_id=role, inherited=False)
        )


class Bootstrap:
    """Creates identity's initial data for a cloud reachable at ``public_url``."""

    def __init__(
        self,
        ident: Identity,
        password: str,
        public_url: str,
        catalog: list[CatalogEntry] | None = None,
        service_password: str | None = None,
    ) -> None:
        self.ident = ident
        self.password = password
        self.public_url = public_url
        self.catalog = catalog if catalog is not None else IDENTITY_CATALOG
        self.service_password = service_password

    def steps(self) -> list[tuple[str, Callable[[Session], None]]]:
        """The steps in order, each (name, function of a write session)."""
        return [
            ("domain", self.domain),
            ("roles", self.roles),
            ("projects", self.projects),
            ("users", self.users),
            ("assignments", self.assignments),
            ("catalog", self.catalog_entries),
        ]

    def run(self, progress: Callable[[str], None] = lambda step: None) -> None:
        """Run every step (each idempotent) and record it as done."""
        self.ident.setup_keys()
        for name, step in self.steps():
            progress(name)
            with self.ident.db.writer() as s:
                step(s)
                if s.get(BootstrapState, name) is None:
                    s.add(BootstrapState(step=name))

    def domain(self, s: Session) -> None:
        if s.get(Project, DEFAULT_DOMAIN) is None:
            s.add(
                Project(
                    id=DEFAULT_DOMAIN,
                    name="Default",
                    domain_id=ROOT_DOMAIN_ID,
                    parent_id=None,
                    is_domain=True,
                    enabled=True,
                    description="The default domain",
                    extra={},
                    options={},
                )
            )

    def roles(self, s: Session) -> None:
        ids = [_role_id(s, name) for name in ROLE_CHAIN]
        for prior, implied in itertools.pairwise(ids):
            if s.get(ImpliedRole, (prior, implied)) is None:
                s.add(ImpliedRole(prior_role_id=prior, implied_role_id=implied))
        for name in EXTRA_ROLES:
            _role_id(s, name)

    def projects(self, s: Session) -> None:
        for name in PROJECTS:
            _project_id(s, name)

    def users(self, s: Session) -> None:
        users = {name: self.password for name in USERS}
        if self.service_password:
            users[SERVICE_USER] = self.service_password
        for name, password in users.items():
            user = s.scalars(
                select(User).where(User.domain_id == DEFAULT_DOMAIN, User.name == name)
            ).first()
            if user is None:
                user = User(
                    id=new_id(),
                    name=name,
                    domain_id=DEFAULT_DOMAIN,
                    enabled=True,
                    extra={},
                    options={},
                    failed_auth_count=0,
                )
                s.add(user)
                s.flush()
            pw = current_password(s, user.id)
            if pw is None or not verify_password(pw.password_hash, password):
                from kumo.identity.db.models import Password

                s.add(Password(user_id=user.id, password_hash=hash_password(password)))

    def assignments(self, s: Session) -> None:
        admin_role = _role_id(s, "admin")
        for name, grants in USERS.items():
            user_id = s.scalars(
                select(User.id).where(User.domain_id == DEFAULT_DOMAIN, User.name == name)
            ).one()
            for role, project in grants:
                _grant(s, "UserProject", user_id, _project_id(s, project), _role_id(s, role))
            if name == "admin":
                _grant(s, "UserSystem", user_id, SYSTEM_TARGET, admin_role)
                _grant(s, "UserDomain", user_id, DEFAULT_DOMAIN, admin_role)
        if self.service_password:
            user_id = s.scalars(
                select(User.id).where(User.domain_id == DEFAULT_DOMAIN, User.name == SERVICE_USER)
            ).one()
            project_id = _project_id(s, SERVICE_PROJECT)
            for role in ("admin", "service"):
                _grant(s, "UserProject", user_id, project_id, _role_id(s, role))

    def catalog_entries(self, s: Session) -> None:
        region = self.ident.settings.region
        if s.get(Region, region) is None:
            s.add(Region(id=region, description="", extra={}))
        for entry in self.catalog:
            service = s.scalars(select(Service).where(Service.type == entry.type)).first()
            if service is None:
                service = Service(
                    id=new_id(),
                    type=entry.type,
                    enabled=True,
                    extra={"name": entry.name, "description": entry.description},
                )
                s.add(service)
                s.flush()
            url = self.public_url.rstrip("/") + entry.path
            for interface in ("public", "internal", "admin"):
                endpoint = s.scalars(
                    select(Endpoint).where(
                        Endpoint.service_id == service.id,
                        Endpoint.interface == interface,
                        Endpoint.region_id == region,
                    )
                ).first()
                if endpoint is None:
                    s.add(
                        Endpoint(
                            id=new_id(),
                            service_id=service.id,
                            interface=interface,
                            url=url,
                            region_id=region,
                            enabled=True,
                            extra={},
                        )
                    )
                elif endpoint.url != url:
                    endpoint.url = url  # the cloud moved to another host or port
