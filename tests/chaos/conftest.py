"""Fixtures of the crash tests: the whole cloud with fake hosts (from the boot-journey tests)."""

from tests.functional.compute.conftest import make_cloud as make_cloud
