"""The fake virt driver: guests kept in memory, for scale tests. It runs no guest.

See :class:`kumo.agents.compute.virt.fake.driver.FakeDriver`.
"""

from kumo.agents.compute.virt.fake.driver import FakeDriver

__all__ = ["FakeDriver"]
