"""Fixtures shared by the compute API tests (each helper's are imported from its module).

Helper R (resources): nova_admin/nova_demo/nova_alt callers and rdb (flavors seeded).
Helper S (servers): a cloud with a fake scheduler/compute host and image API.
"""

from tests.api.compute._resources import nova_admin as nova_admin
from tests.api.compute._resources import nova_alt as nova_alt
from tests.api.compute._resources import nova_demo as nova_demo
from tests.api.compute._resources import rdb as rdb
from tests.api.compute._servers import servers_cloud as servers_cloud
