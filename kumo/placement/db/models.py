"""The placement service's tables."""
