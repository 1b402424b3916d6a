"""The compute service's tables."""
