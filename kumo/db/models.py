"""Imports every service's models so that Alembic sees one complete metadata."""

from kumo.identity.db import models as identity_models  # noqa: F401
