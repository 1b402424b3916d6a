"""The compute service's tables (Helper R: resources; Helper S: servers)."""

from kumo.compute.db.aggregates import Aggregate as Aggregate
from kumo.compute.db.aggregates import AggregateHost as AggregateHost
from kumo.compute.db.aggregates import AggregateMetadata as AggregateMetadata
from kumo.compute.db.block_devices import BlockDeviceMapping as BlockDeviceMapping
from kumo.compute.db.flavors import Flavor as Flavor
from kumo.compute.db.flavors import FlavorExtraSpec as FlavorExtraSpec
from kumo.compute.db.flavors import FlavorProject as FlavorProject
from kumo.compute.db.hosts import ComputeNode as ComputeNode
from kumo.compute.db.hosts import Service as Service
from kumo.compute.db.instance_actions import InstanceAction as InstanceAction
from kumo.compute.db.instance_actions import InstanceActionEvent as InstanceActionEvent
from kumo.compute.db.instances import Instance as Instance
from kumo.compute.db.instances import InstanceFault as InstanceFault
from kumo.compute.db.instances import InstanceMetadata as InstanceMetadata
from kumo.compute.db.instances import InstanceTag as InstanceTag
from kumo.compute.db.keypairs import KeyPair as KeyPair
from kumo.compute.db.quotas import Quota as Quota
from kumo.compute.db.quotas import QuotaClass as QuotaClass
from kumo.compute.db.server_groups import ServerGroup as ServerGroup
from kumo.compute.db.server_groups import ServerGroupMember as ServerGroupMember
