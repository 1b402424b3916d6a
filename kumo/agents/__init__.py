"""Agents: the processes on each host that do the work (compute, network, volume)."""
