"""The network agent: the Linux data plane of the Networking API (bridges, DHCP, routers).

Every object it makes on the host carries a Kumo prefix (see
:mod:`kumo.agents.network.linux.names`) so that ``kumo down`` can find and
remove exactly those, and nothing of the host's own.
"""
