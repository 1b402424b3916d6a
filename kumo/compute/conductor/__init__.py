"""The conductor (nova-conductor): the database on behalf of the compute agents.

Compute agents never open the database (booklet steps 14–17): they call the
conductor's bus endpoint (:class:`~kumo.compute.conductor.manager.ConductorManager`)
through :class:`~kumo.compute.conductor.rpcapi.ConductorAPI`.
"""
