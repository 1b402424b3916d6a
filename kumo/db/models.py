"""Imports every service's models so that Alembic sees one complete metadata."""

from kumo.compute.db import models as compute_models  # noqa: F401
from kumo.identity.db import models as identity_models  # noqa: F401
from kumo.image.db import models as image_models  # noqa: F401
from kumo.network.db import models as network_models  # noqa: F401
from kumo.placement.db import models as placement_models  # noqa: F401
