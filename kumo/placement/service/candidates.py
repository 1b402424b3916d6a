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

from sqlalchemy import func, intersect, select
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
        queries: list[tuple[int, int, Any]] = []  # (group index, class id, query)
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
                queries.append((gi, rc_id, q))
        if not queries:
            return Candidates([], {})
        # One set-based query per (group, class); everything else is set arithmetic.
        conn = s.connection()
        restrict: list[Any] = []
        simple = len(req.groups) == 1 and not req.groups[0].suffix
        if simple and not req.groups[0].required.all_of and req.limit is not None:
            # Every tree with room for every class yields a candidate, so ``limit``
            # can pick the trees in SQL and only those trees' rows are read.
            trees = intersect(
                *(q.with_only_columns(ResourceProvider.root_provider_id) for _g, _r, q in queries)
            ).subquery()
            col = trees.c[0]
            # The limit-th tree in id order bounds every tree needed: one number
            # instead of a long IN list (no bound when fewer trees qualify).
            last = conn.execute(select(col).order_by(col).limit(1).offset(req.limit - 1)).scalar()
            if last is not None:
                restrict = [ResourceProvider.root_provider_id <= last]
        found: dict[tuple[int, int], dict[int, list[_Row]]] = {}
        rows_by_key: dict[tuple[int, int], _Row] = {}
        known: dict[int, tuple[str, int | None, int]] = {}  # id → (uuid, parent, root)
        for gi, rc_id, q in queries:
            by_root: dict[int, list[_Row]] = defaultdict(list)
            for rp_id, root_id, usable, ratio, used, _inv, rp_uuid, parent in conn.execute(
                q.add_columns(ResourceProvider.uuid, ResourceProvider.parent_provider_id).where(
                    *restrict
                )
            ).all():
                root = root_id or rp_id
                row = _Row(rp_id, root, usable * ratio, int(used))
                by_root[root].append(row)
                rows_by_key[(rp_id, rc_id)] = row
                known[rp_id] = (rp_uuid, parent, root)
            found[(gi, rc_id)] = by_root
        roots = set.intersection(*(set(v) for v in found.values()))
        needs_traits = any(g.required.all_of and not g.suffix for g in req.groups)
        traits_of = (
            _traits(s, {r.rp for v in found.values() for rs in v.values() for r in rs})
            if needs_traits
            else {}
        )
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
            used_rps,
            known,
            rows_by_key,
            whole_trees=whole_trees,
            only=None if all_classes else requested,
        )
        return Candidates(results, summaries)


#: Above this many ids, read the whole table and filter in Python (cheaper than a huge IN).
_IN_LIMIT = 2000


def _ids_clause(column: Any, ids: set[int]) -> list[Any]:
    """``column IN ids`` for a modest set of ids, nothing (read all, filter later) for many."""
    return [column.in_(sorted(ids))] if len(ids) <= _IN_LIMIT else []


def _traits(s: Session, rp_ids: set[int]) -> dict[int, set[str]]:
    """Traits of the providers ``rp_ids``."""
    out: dict[int, set[str]] = defaultdict(set)
    if not rp_ids:
        return out
    for rp, trait in s.connection().execute(
        select(ProviderTrait.resource_provider_id, ProviderTrait.trait).where(
            *_ids_clause(ProviderTrait.resource_provider_id, rp_ids)
        )
    ):
        if rp in rp_ids:
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
    used_rps: set[int],
    known: dict[int, tuple[str, int | None, int]],
    rows_by_key: dict[tuple[int, int], _Row],
    *,
    whole_trees: bool,
    only: set[int] | None,
) -> dict[str, Summary]:
    """Summaries of the providers in candidates (and, with ``whole_trees``, their trees).

    The capacity queries already read the requested classes of every provider that
    had room; only what they could not see is read here: other providers of the
    trees, other classes (1.27+), and traits.
    """
    if not used_rps:
        return {}
    conn = s.connection()
    wanted = set(used_rps)
    roots = {known[rp][2] for rp in used_rps}
    nested_roots: set[int] = set()
    if whole_trees:
        # Providers below the candidate roots (none in a flat cloud), then roots not seen yet.
        for rp_id, rp_uuid, parent, root in conn.execute(
            select(
                ResourceProvider.id,
                ResourceProvider.uuid,
                ResourceProvider.parent_provider_id,
                ResourceProvider.root_provider_id,
            ).where(
                ResourceProvider.parent_provider_id.is_not(None),
                *_ids_clause(ResourceProvider.root_provider_id, roots),
            )
        ):
            if root in roots:
                known[rp_id] = (rp_uuid, parent, root)
                wanted.add(rp_id)
                nested_roots.add(root)
        missing = roots - known.keys()
        if missing:
            for rp_id, rp_uuid, parent, root in conn.execute(
                select(
                    ResourceProvider.id,
                    ResourceProvider.uuid,
                    ResourceProvider.parent_provider_id,
                    ResourceProvider.root_provider_id,
                ).where(ResourceProvider.id.in_(sorted(missing)))
            ):
                known[rp_id] = (rp_uuid, parent, root or rp_id)
        wanted |= roots
    else:
        nested_roots = {known[rp][2] for rp in used_rps if known[rp][1] is not None}
    # In a tree of one provider that is a candidate on its own, every requested class
    # came with the capacity rows; anything else must be read.
    nested = {rp for rp in wanted if known[rp][2] in nested_roots or known[rp][1] is not None}
    inv: dict[int, dict[str, tuple[int, int]]] = defaultdict(dict)
    for (rp, rc), row in rows_by_key.items():
        if rp in wanted and (only is None or rc in only):
            inv[rp][classes.name_of(rc)] = (int(row.capacity), row.used)
    extra: list[tuple[int, int, int, int, float]] = []
    if only is None:
        requested = {rc for _rp, rc in rows_by_key}
        query = select(
            Inventory.resource_provider_id,
            Inventory.resource_class_id,
            Inventory.total,
            Inventory.reserved,
            Inventory.allocation_ratio,
        ).where(Inventory.resource_class_id.not_in(sorted(requested)))
        extra += [tuple(r) for r in conn.execute(query)]  # type: ignore[misc]
    if nested:
        extra += [
            tuple(r)  # type: ignore[misc]
            for r in conn.execute(
                select(
                    Inventory.resource_provider_id,
                    Inventory.resource_class_id,
                    Inventory.total,
                    Inventory.reserved,
                    Inventory.allocation_ratio,
                ).where(*_ids_clause(Inventory.resource_provider_id, nested))
            )
        ]
    extra = [
        r
        for r in extra
        if r[0] in wanted and (r[0], r[1]) not in rows_by_key and (only is None or r[1] in only)
    ]
    if extra:
        extra_ids = {r[0] for r in extra}
        usage = {
            (rp, rc): int(used)
            for rp, rc, used in conn.execute(
                select(
                    Allocation.resource_provider_id,
                    Allocation.resource_class_id,
                    func.sum(Allocation.used),
                )
                .where(*_ids_clause(Allocation.resource_provider_id, extra_ids))
                .group_by(Allocation.resource_provider_id, Allocation.resource_class_id)
            )
        }
        for rp, rc, total, reserved, ratio in extra:
            inv[rp][classes.name_of(rc)] = (
                int((total - reserved) * ratio),
                usage.get((rp, rc), 0),
            )
    traits_of = _traits(s, wanted)
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
