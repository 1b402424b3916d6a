"""The network service's tables."""
