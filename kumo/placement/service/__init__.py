"""Placement business logic: providers, inventories, allocations, candidates."""
