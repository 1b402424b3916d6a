"""Placement request bodies."""
