"""The image service's tables."""
