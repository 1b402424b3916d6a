"""Allocation candidates: which providers (or provider trees) can satisfy a request.

Set-based: for every (request group, resource class) one SQL query returns
the providers with room for the amount (capacity, min/max unit, step size,
aggregate and per-provider trait filters are all in the ``WHERE``), using the
(resource_class_id, resource_provider_id) indexes. Python then only groups
those rows by tree root and combines them, stopping at ``limit``.

Supported: the unsuffixed group (its resources may come from several
providers of one tree), suffixed groups (each from a single provider),
``group_policy`` isolate/none, required/forbidden/any-of traits, member_of
(any-of and forbidden), ``in_tree``, ``root_required``, ``limit``. Not supported:
``same_subtree`` (refused with 400). Sharing providers
(``MISC_SHARES_VIA_AGGREGATE``) are not considered.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kumo.common.db import Database
from kumo.placement.db.models import (
    Allocation,
    Inventory,
    ProviderTrait,
    ResourceProvider,
)
from kumo.placement.service import names, providers
from kumo.placement.service.query import AggregateFilter, TraitFilter


@dataclass
class RequestGroup:
    """One request group: ``resources``/``required``/``member_of`` with one suffix."""

    suffix: str
    resources: dict[str, int] = field(default_factory=dict)
    required: TraitFilter = field(default_factory=TraitFilter)
    member_of: AggregateFilter = field(default_factory=AggregateFilter)


@dataclass
class CandidateRequest:
    """Everything ``GET /allocation_candidates`` asks for."""

    groups: list[RequestGroup]
    limit: int | None = None
    isolate: bool = False
    in_tree: str | None = None
    #: Traits the root provider of a candidate's tree must (not) have (1.35).
    root_required: TraitFilter = field(default_factory=TraitFilter)


@dataclass
class Summary:
    """One provider in ``provider_summaries``."""

    uuid: str
    parent_uuid: str | None
    root_uuid: str
    resources: dict[str, tuple[int, int]]  # class → (capacity, used)
    traits: list[str]


@dataclass
class Candidates:
    """The answer: allocation requests and summaries of the providers involved."""

    #: Each: provider uuid → class → amount, and suffix → provider uuids.
    requests: list[tuple[dict[str, dict[str, int]], dict[str, list[str]]]]
    summaries: dict[str, Summary]


@dataclass
class _Row:
    rp: int
    root: int
    capacity: float
    used: int


def find(
    db: Database, req: CandidateRequest, *, whole_trees: bool, all_classes: bool
) -> Candidates:
    """Allocation candidates for ``req``.

    ``whole_trees`` (1.29+) summarises every provider of a candidate's tree;
    ``all_classes`` (1.27+) summarises every class a provider has, not just those asked for.
    """
    with db.reader() as s:
        classes = names.ClassCache(s)
        wanted_traits = set().union(*(g.required.names() for g in req.groups))
        wanted_traits |= req.root_required.names()
        names.require_traits(s, wanted_traits)
        root_filter: int | None = None
        if req.in_tree is not None:
            root_filter = s.scalar(
                select(ResourceProvider.root_provider_id).where(
                    ResourceProvider.uuid == req.in_tree
                )
            )
            if root_filter is None:
                return Candidates([], {})
        # (group index, class id) → root → rows
        found: dict[tuple[int, int], dict[int, list[_Row]]] = {}
        rows_by_key: dict[tuple[int, int], _Row] = {}
        known: dict[int, tuple[str, int | None, int]] = {}  # id → (uuid, parent, root)
        first: Any = None
        for gi, group in enumerate(req.groups):
            for rc_name, amount in group.resources.items():
                rc_id = classes.id_of(rc_name)
                q = providers.capacity_query(rc_id, amount, units=True)
                if root_filter is not None:
                    q = q.where(ResourceProvider.root_provider_id == root_filter)
                rp_col = Inventory.resource_provider_id
                q = q.where(*providers.aggregate_clause(rp_col, group.member_of))
                if group.suffix:
                    q = q.where(*providers.trait_clause(rp_col, group.required))
                elif group.required.forbidden:
                    q = q.where(
                        *providers.trait_clause(
                            rp_col, TraitFilter(forbidden=group.required.forbidden)
                        )
                    )
                if req.root_required:
                    q = q.where(
                        *providers.trait_clause(
                            ResourceProvider.root_provider_id, req.root_required
                        )
                    )
                if first is None:
                    first = q
                by_root: dict[int, list[_Row]] = defaultdict(list)
                for rp_id, root_id, usable, ratio, used, _inv, rp_uuid, parent in s.execute(
                    q.add_columns(ResourceProvider.uuid, ResourceProvider.parent_provider_id)
                ):
                    root = root_id or rp_id
                    row = _Row(rp_id, root, usable * ratio, int(used))
                    by_root[root].append(row)
                    rows_by_key[(rp_id, rc_id)] = row
                    known[rp_id] = (rp_uuid, parent, root)
                found[(gi, rc_id)] = by_root
        if first is None:
            return Candidates([], {})
        roots = set.intersection(*(set(v) for v in found.values()))
        # Every provider in a tree that has room for the first requested class: a
        # subquery, so the database (not a long IN list) narrows the later reads.
        scope = select(ResourceProvider.id).where(
            ResourceProvider.root_provider_id.in_(
                first.with_only_columns(ResourceProvider.root_provider_id)
            )
        )
        needs_traits = any(g.required.all_of and not g.suffix for g in req.groups)
        traits_of = _traits(s, scope) if needs_traits else {}
        group_rcs = [
            [(classes.id_of(rc), amount) for rc, amount in g.resources.items()] for g in req.groups
        ]
        results: list[tuple[dict[str, dict[str, int]], dict[str, list[str]]]] = []
        used_rps: set[int] = set()
        for root in sorted(roots):
            for amounts, by_suffix in _combinations(
                req, found, group_rcs, root, traits_of, rows_by_key
            ):
                request: dict[str, dict[str, int]] = {}
                for (rp_id, rc_id), amount in amounts.items():
                    used_rps.add(rp_id)
                    request.setdefault(known[rp_id][0], {})[classes.name_of(rc_id)] = amount
                mappings = {
                    suffix: sorted({known[i][0] for i in rp_ids})
                    for suffix, rp_ids in by_suffix.items()
                }
                results.append((request, mappings))
                if req.limit is not None and len(results) >= req.limit:
                    break
            if req.limit is not None and len(results) >= req.limit:
                break
        requested = {rc for rcs in group_rcs for rc, _a in rcs}
        summaries = _summaries(
            s,
            classes,
            scope,
            used_rps,
            known,
            whole_trees=whole_trees,
            only=None if all_classes else requested,
        )
        return Candidates(results, summaries)


def _traits(s: Session, scope: Any) -> dict[int, set[str]]:
    """Traits of the providers selected by subquery ``scope``."""
    out: dict[int, set[str]] = defaultdict(set)
    for rp, trait in s.execute(
        select(ProviderTrait.resource_provider_id, ProviderTrait.trait).where(
            ProviderTrait.resource_provider_id.in_(scope)
        )
    ):
        out[rp].add(trait)
    return out


Combo = tuple[dict[tuple[int, int], int], dict[str, list[int]]]


def _combinations(
    req: CandidateRequest,
    found: dict[tuple[int, int], dict[int, list[_Row]]],
    group_rcs: list[list[tuple[int, int]]],
    root: int,
    traits_of: dict[int, set[str]],
    rows_by_key: dict[tuple[int, int], _Row],
) -> Iterator[Combo]:
    """Every way the groups can be satisfied inside the tree rooted at ``root``."""
    if len(req.groups) == 1 and not req.groups[0].suffix and not req.groups[0].required.all_of:
        # The common case (one unsuffixed group, no required traits): every pick is a
        # candidate, each class from one provider, and rows already passed capacity.
        rcs = group_rcs[0]
        choices = [[r.rp for r in found[(0, rc)][root]] for rc, _a in rcs]
        for pick in itertools.product(*choices):
            yield (
                {(rp, rc): a for rp, (rc, a) in zip(pick, rcs, strict=True)},
                {"": sorted(set(pick))},
            )
        return
    per_group: list[list[list[tuple[int, int, int]]]] = []  # group → options → (rp, rc, amt)
    for gi, group in enumerate(req.groups):
        rcs = group_rcs[gi]
        options: list[list[tuple[int, int, int]]] = []
        if group.suffix:
            common = set.intersection(*({r.rp for r in found[(gi, rc)][root]} for rc, _a in rcs))
            options = [[(rp, rc, a) for rc, a in rcs] for rp in sorted(common)]
        else:
            choices = [[r.rp for r in found[(gi, rc)][root]] for rc, _a in rcs]
            for pick in itertools.product(*choices):
                chosen = set(pick)
                if group.required.all_of:
                    union: set[str] = set().union(*(traits_of.get(rp, set()) for rp in chosen))
                    if not group.required.satisfied_by(union):
                        continue
                options.append([(rp, rc, a) for rp, (rc, a) in zip(pick, rcs, strict=True)])
        if not options:
            return
        per_group.append(options)
    seen: set[
        tuple[tuple[tuple[tuple[int, int], int], ...], tuple[tuple[str, tuple[int, ...]], ...]]
    ] = set()
    for combo in itertools.product(*per_group):
        if req.isolate:
            numbered = [
                {rp for rp, _rc, _a in opt}
                for opt, g in zip(combo, req.groups, strict=True)
                if g.suffix
            ]
            flat = [rp for group_rps in numbered for rp in group_rps]
            if len(flat) != len(set(flat)):
                continue
        amounts: dict[tuple[int, int], int] = defaultdict(int)
        mapping: dict[str, list[int]] = {}
        for opt, g in zip(combo, req.groups, strict=True):
            mapping[g.suffix] = sorted({rp for rp, _rc, _a in opt})
            for rp, rc, a in opt:
                amounts[(rp, rc)] += a
        # Two groups on one provider and class must fit together.
        if any(
            rows_by_key[key].used + total > rows_by_key[key].capacity
            for key, total in amounts.items()
        ):
            continue
        # Distinct group-to-provider mappings are distinct candidates (as from 1.34).
        signature = (
            tuple(sorted(amounts.items())),
            tuple(sorted((k, tuple(v)) for k, v in mapping.items())),
        )
        if signature in seen:
            continue
        seen.add(signature)
        yield dict(amounts), mapping


def _summaries(
    s: Session,
    classes: names.ClassCache,
    scope: Any,
    used_rps: set[int],
    known: dict[int, tuple[str, int | None, int]],
    *,
    whole_trees: bool,
    only: set[int] | None,
) -> dict[str, Summary]:
    """Summaries of the providers in candidates (and, with ``whole_trees``, their trees)."""
    if not used_rps:
        return {}
    wanted = set(used_rps)
    if whole_trees:
        roots = {known[rp][2] for rp in used_rps}
        # Children of candidate trees (none in a flat cloud), then roots not seen yet.
        for rp_id, rp_uuid, parent, root in s.execute(
            select(
                ResourceProvider.id,
                ResourceProvider.uuid,
                ResourceProvider.parent_provider_id,
                ResourceProvider.root_provider_id,
            ).where(
                ResourceProvider.id.in_(scope), ResourceProvider.parent_provider_id.is_not(None)
            )
        ):
            if root in roots:
                known[rp_id] = (rp_uuid, parent, root)
                wanted.add(rp_id)
        missing = sorted(roots - known.keys())
        if missing:
            for rp_id, rp_uuid, parent, root in s.execute(
                select(
                    ResourceProvider.id,
                    ResourceProvider.uuid,
                    ResourceProvider.parent_provider_id,
                    ResourceProvider.root_provider_id,
                ).where(ResourceProvider.id.in_(missing))
            ):
                known[rp_id] = (rp_uuid, parent, root or rp_id)
        wanted |= roots
    usage = {
        (rp, rc): int(used)
        for rp, rc, used in s.execute(
            select(
                Allocation.resource_provider_id,
                Allocation.resource_class_id,
                func.sum(Allocation.used),
            )
            .where(Allocation.resource_provider_id.in_(scope))
            .group_by(Allocation.resource_provider_id, Allocation.resource_class_id)
        )
        if rp in wanted
    }
    inv: dict[int, dict[str, tuple[int, int]]] = defaultdict(dict)
    for rp, rc, total, reserved, ratio in s.execute(
        select(
            Inventory.resource_provider_id,
            Inventory.resource_class_id,
            Inventory.total,
            Inventory.reserved,
            Inventory.allocation_ratio,
        ).where(Inventory.resource_provider_id.in_(scope))
    ):
        if rp not in wanted or (only is not None and rc not in only):
            continue
        inv[rp][classes.name_of(rc)] = (int((total - reserved) * ratio), usage.get((rp, rc), 0))
    traits_of = _traits(s, scope)
    out: dict[str, Summary] = {}
    for rp_id in sorted(wanted):
        rp_uuid, parent, root = known[rp_id]
        out[rp_uuid] = Summary(
            uuid=rp_uuid,
            parent_uuid=known[parent][0] if parent in known else None,
            root_uuid=known[root][0] if root in known else rp_uuid,
            resources=inv.get(rp_id, {}),
            traits=sorted(traits_of.get(rp_id, set())),
        )
    return out
