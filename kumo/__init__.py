"""Kumo: an OpenStack-compatible private cloud, in Python, that is real."""

__version__ = "0.1.0"
