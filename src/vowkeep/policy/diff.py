"""`policy diff`: every change between two declarations, in plain language, material ones marked (NTC-2).

Each `Change` has a kind. The kinds that can be material are the `ChangeKind` values; a change is
material iff its kind is listed in the NEW declaration's `changes.material`. Every other kind
(`category_removed`, `shorter_retention`, `notice_changed`…) is minor. Lists of keys are compared as
sets — reordering promises nothing new — and a purpose's or recipient's categories by coverage:
replacing `user.name` by `user.name.first` removes something, it adds nothing.

Judgements worth knowing:
- a purpose whose data use changes is a new purpose (`new_purpose`): the old consent did not cover it;
- a retention counted from a later event (anything but `collection`) is `longer_retention`, as are a
  new hold, a hold keeping more categories or longer, a larger or removed `retention_cap`, and a
  longer raw usage-data window;
- a recipient that stops being aggregate-only newly gets identifiable data (`recipient_categories_added`);
- `never_sell` turned off, or a recipient that newly pays for data or takes it for its own promotions,
  is `sale_allowed`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from pydantic import BaseModel

from vowkeep.policy.duration import Duration
from vowkeep.policy.errors import Path, format_path
from vowkeep.policy.model import ChangeKind, ConsentMode, Policy, RetentionEvent
from vowkeep.policy.taxonomy import covers

_CONSENT_STRENGTH = {ConsentMode.none: 0, ConsentMode.opt_out: 1, ConsentMode.opt_in: 2}
# Kinds after which a consent-based purpose's subjects are asked again (NTC-2).
_RECONSENT_KINDS = {
    ChangeKind.new_purpose,
    ChangeKind.purpose_categories_added,
    ChangeKind.weaker_consent,
    ChangeKind.longer_retention,
    ChangeKind.new_recipient,
    ChangeKind.recipient_categories_added,
    ChangeKind.sale_allowed,
}


@dataclass
class Change:
    """One difference between two declarations."""

    kind: str
    path: Path
    summary: str
    material: bool = False
    old: Any = None
    new: Any = None
    # Consent-based purposes (of the new declaration) whose subjects this change concerns.
    purposes: tuple[str, ...] = field(default=(), repr=False)

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "path": format_path(self.path),
            "summary": self.summary,
            "material": self.material,
            "old": self.old,
            "new": self.new,
        }


@dataclass
class PolicyDiff:
    """All changes from one declaration to the next, in declaration order."""

    changes: list[Change]
    purpose_order: list[str] = field(default_factory=list, repr=False)

    @property
    def material(self) -> bool:
        """Whether any change is material: subjects must be told (and, for consent, asked again)."""
        return any(c.material for c in self.changes)

    @property
    def material_changes(self) -> list[Change]:
        return [c for c in self.changes if c.material]

    def purposes_needing_reconsent(self) -> list[str]:
        """Consent-based purposes that are new, use more categories, go to new recipients, or got weaker
        consent or longer retention — through a material change."""
        keys = {k for c in self.changes if c.material and c.kind in _RECONSENT_KINDS for k in c.purposes}
        return [k for k in self.purpose_order if k in keys]

    def as_dict(self) -> dict:
        return {
            "material": self.material,
            "count": len(self.changes),
            "material_count": len(self.material_changes),
            "purposes_needing_reconsent": self.purposes_needing_reconsent(),
            "changes": [c.as_dict() for c in self.changes],
        }


def diff(old: Policy, new: Policy) -> PolicyDiff:
    """Every change from `old` to `new`, material ones judged by `new.changes.material`."""
    differ = _Differ(old, new)
    for name in Policy.model_fields:
        SECTIONS[name](differ)
    return PolicyDiff(differ.changes, purpose_order=[p.key for p in new.purposes])


# --- values ---------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A JSON-ready form of a model value, for comparing and showing."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Duration):
        return value.text
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _small(value: Any) -> Any:
    """The value if small enough to carry in a change, else None."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value if len(value) <= 200 else None
    text = json.dumps(value, default=str)
    return value if len(text) <= 300 else None


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return f"'{value}'" if len(value) <= 80 else "a new text"
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "[" + ", ".join(value) + "]"
    return json.dumps(value, default=str) if len(json.dumps(value, default=str)) <= 80 else "a new value"


def _is_text(value: Any) -> bool:
    """Prose rather than a name: a notice paragraph, a description."""
    return isinstance(value, str) and (len(value) > 80 or "\n" in value)


def _quote(keys: Iterable[str]) -> str:
    return ", ".join(f"'{k}'" if len(k) <= 60 else f"'{k[:57]}…'" for k in keys)


def _words(name: str) -> str:
    return name.replace("_", " ")


def _added_categories(old: Sequence[str], new: Sequence[str]) -> list[str]:
    """Categories in `new` that nothing in `old` covered."""
    return [c for c in new if not any(covers(o, c) for o in old)]


def _keyed(items: Sequence, key: Callable) -> dict:
    """{key: (index, item)}; repeated keys get an occurrence number so none is lost."""
    out: dict = {}
    seen: dict = {}
    for i, item in enumerate(items):
        k = key(item)
        n = seen.get(k, 0)
        seen[k] = n + 1
        out[(k, n) if n else k] = (i, item)
    return out


# --- the differ -------------------------------------------------------------------------------------


class _Differ:
    def __init__(self, old: Policy, new: Policy) -> None:
        self.old = old
        self.new = new
        self.material_kinds = {str(k) for k in new.changes.material}
        self.changes: list[Change] = []

    def add(self, kind: str, path: Path, summary: str, old: Any = None, new: Any = None, purposes=()) -> None:
        kind = str(kind)
        self.changes.append(
            Change(
                kind=kind,
                path=path,
                summary=summary,
                material=kind in self.material_kinds,
                old=_small(_plain(old)),
                new=_small(_plain(new)),
                purposes=tuple(purposes),
            )
        )

    def consent_based(self, keys: Iterable[str]) -> list[str]:
        """Of these purpose keys, those that are consent-based in the new declaration."""
        by_key = self.new.purpose_by_key
        return [k for k in keys if k in by_key and by_key[k].consent_based]

    def fields(self, old: BaseModel, new: BaseModel, path: Path, what: str, kind: str, skip=()) -> None:
        """A change of `kind` for each field that differs, lists compared as sets of added and removed items."""
        for name in type(new).model_fields:
            if name in skip:
                continue
            self.value(
                _plain(getattr(old, name)), _plain(getattr(new, name)), (*path, name), f"{what} {_words(name)}", kind
            )

    def value(self, a: Any, b: Any, path: Path, what: str, kind: str) -> None:
        if a == b:
            return
        if isinstance(a, list) and isinstance(b, list) and all(isinstance(v, str) for v in a + b):
            added = [v for v in b if v not in a]
            removed = [v for v in a if v not in b]
            if not added and not removed:
                return  # reordered: nothing promised changes
            parts = ([f"added {_quote(added)}"] if added else []) + ([f"removed {_quote(removed)}"] if removed else [])
            self.add(kind, path, f"{what}: {'; '.join(parts)}", a, b)
            return
        if _is_text(a) or _is_text(b):
            if a is None or b is None:
                self.add(kind, path, f"{what}: {'added' if a is None else 'removed'}", a, b)
            else:
                self.add(kind, path, f"{what}: reworded", a, b)
            return
        self.add(kind, path, f"{what}: {_show(a)} → {_show(b)}", a, b)

    def keyed(
        self,
        section: str,
        old_items: Sequence,
        new_items: Sequence,
        key: Callable,
        *,
        added: Callable,
        removed: Callable,
        changed: Callable,
        base: Path = (),
    ) -> None:
        """Match two lists by key and report items added, removed and changed."""
        old_by, new_by = _keyed(old_items, key), _keyed(new_items, key)
        for k, (i, item) in old_by.items():
            if k not in new_by:
                removed((*base, section, i), item)
        for k, (i, item) in new_by.items():
            if k not in old_by:
                added((*base, section, i), item)
            else:
                old_item = old_by[k][1]
                if _plain(old_item) != _plain(item):
                    changed((*base, section, i), old_item, item)


SECTIONS: dict[str, Callable[[_Differ], None]] = {}


def section(name: str):
    def register(handler):
        SECTIONS[name] = handler
        return handler

    return register


@section("vowkeep")
def _schema(d: _Differ) -> None:
    d.value(d.old.vowkeep, d.new.vowkeep, ("vowkeep",), "schema version", "schema_changed")


@section("organization")
def _organization(d: _Differ) -> None:
    d.fields(
        d.old.organization,
        d.new.organization,
        ("organization",),
        "organization",
        "organization_changed",
        skip={"contact"},
    )
    d.fields(
        d.old.organization.contact,
        d.new.organization.contact,
        ("organization", "contact"),
        "contact",
        "organization_changed",
    )


@section("effective_date")
def _effective_date(d: _Differ) -> None:
    d.value(
        _plain(d.old.effective_date),
        _plain(d.new.effective_date),
        ("effective_date",),
        "effective date",
        "effective_date_changed",
    )


@section("minors")
def _minors(d: _Differ) -> None:
    old, new = d.old.minors.minimum_age, d.new.minors.minimum_age
    path = ("minors", "minimum_age")
    if new < old:
        d.add(ChangeKind.lower_minimum_age, path, f"minimum age lowered from {old} to {new}", old, new)
    elif new > old:
        d.add("higher_minimum_age", path, f"minimum age raised from {old} to {new}", old, new)
    d.fields(d.old.minors, d.new.minors, ("minors",), "minors", "minors_changed", skip={"minimum_age"})


@section("storage")
def _storage(d: _Differ) -> None:
    old, new = d.old.storage, d.new.storage
    for region in new.regions:
        if region not in old.regions:
            d.add(
                "region_added",
                ("storage", "regions", new.regions.index(region)),
                f"data now also stored in {region}",
                None,
                region,
            )
    for region in old.regions:
        if region not in new.regions:
            d.add(
                "region_removed",
                ("storage", "regions", old.regions.index(region)),
                f"data no longer stored in {region}",
                region,
                None,
            )

    def added(path, transfer):
        who = f" for {_quote(transfer.recipients)}" if transfer.recipients else ""
        d.add(
            ChangeKind.new_transfer, path, f"new transfer to {transfer.to} ({transfer.safeguard}){who}", None, transfer
        )

    def removed(path, transfer):
        d.add("transfer_removed", path, f"no more transfer to {transfer.to}", transfer, None)

    def changed(path, a, b):
        newly = [r for r in b.recipients if r not in a.recipients]
        if newly:
            d.add(
                ChangeKind.new_transfer,
                (*path, "recipients"),
                f"transfer to {b.to} now also for {_quote(newly)}",
                a.recipients,
                b.recipients,
            )
        gone = [r for r in a.recipients if r not in b.recipients]
        if gone:
            d.add(
                "transfer_changed",
                (*path, "recipients"),
                f"transfer to {b.to} no longer for {_quote(gone)}",
                a.recipients,
                b.recipients,
            )
        d.fields(a, b, path, f"transfer to {b.to}", "transfer_changed", skip={"recipients", "to"})

    d.keyed(
        "transfers",
        old.transfers,
        new.transfers,
        lambda t: t.to,
        added=added,
        removed=removed,
        changed=changed,
        base=("storage",),
    )


@section("categories")
def _categories(d: _Differ) -> None:
    d.keyed(
        "categories",
        d.old.categories,
        d.new.categories,
        lambda c: c.key,
        added=lambda path, c: d.add(ChangeKind.new_category, path, f"new category '{c.key}' ({c.label})", None, c.key),
        removed=lambda path, c: d.add("category_removed", path, f"category '{c.key}' ({c.label}) removed", c.key, None),
        changed=lambda path, a, b: d.fields(a, b, path, f"category '{b.key}'", "category_changed"),
    )


@section("collection_points")
def _collection_points(d: _Differ) -> None:
    def added(path, point):
        what = _quote(f.category for f in point.fields)
        d.add(
            "collection_point_added",
            path,
            f"new collection point '{point.key}' ({point.label}) collecting {what}",
            None,
            point.key,
        )

    def removed(path, point):
        d.add(
            "collection_point_removed", path, f"collection point '{point.key}' ({point.label}) removed", point.key, None
        )

    def changed(path, a, b):
        d.fields(a, b, path, f"collection point '{b.key}'", "collection_point_changed", skip={"fields"})
        d.keyed(
            "fields",
            a.fields,
            b.fields,
            lambda f: f.name,
            added=lambda p, f: d.add(
                "field_added",
                p,
                f"collection point '{b.key}' asks for a new field '{f.name}' ({f.category})",
                None,
                f.name,
            ),
            removed=lambda p, f: d.add(
                "field_removed", p, f"collection point '{b.key}' no longer asks for '{f.name}'", f.name, None
            ),
            changed=lambda p, fa, fb: d.fields(fa, fb, p, f"field '{fb.name}' of '{b.key}'", "field_changed"),
            base=path,
        )

    d.keyed(
        "collection_points",
        d.old.collection_points,
        d.new.collection_points,
        lambda c: c.key,
        added=added,
        removed=removed,
        changed=changed,
    )


@section("usage_data")
def _usage_data(d: _Differ) -> None:
    old, new = d.old.usage_data, d.new.usage_data
    path = ("usage_data",)
    if old is None and new is None:
        return
    if old is None:
        d.add(
            "usage_data_added",
            path,
            f"usage data now collected: {', '.join(s.value for s in new.collect) or 'nothing yet'}",
            None,
            new,
        )
        return
    if new is None:
        d.add("usage_data_removed", path, "usage data no longer collected", old, None)
        return
    _longer_or_shorter(
        d, old.raw_retention, new.raw_retention, (*path, "raw_retention"), "raw usage events are kept", ()
    )
    d.fields(old, new, path, "usage data", "usage_data_changed", skip={"raw_retention"})


def _longer_or_shorter(d: _Differ, old: Duration, new: Duration, path: Path, what: str, purposes) -> None:
    if new > old:
        d.add(
            ChangeKind.longer_retention, path, f"{what} longer: {old.describe()} → {new.describe()}", old, new, purposes
        )
    elif new < old:
        d.add("shorter_retention", path, f"{what} shorter: {old.describe()} → {new.describe()}", old, new)
    elif new.text != old.text:
        d.add("retention_changed", path, f"{what} for {new} instead of {old}", old, new)


@section("purposes")
def _purposes(d: _Differ) -> None:
    def added(path, p):
        uses = _quote(p.categories) or "no category"
        d.add(
            ChangeKind.new_purpose,
            path,
            f"new purpose '{p.key}' ({p.label}): uses {uses}; "
            f"legal basis {p.legal_basis.value}, consent {p.consent.value}",
            None,
            p.key,
            d.consent_based([p.key]),
        )

    def removed(path, p):
        d.add("purpose_removed", path, f"purpose '{p.key}' ({p.label}) removed", p.key, None)

    def changed(path, a, b):
        reconsent = d.consent_based([b.key])
        name = f"purpose '{b.key}'"
        if a.data_use != b.data_use:
            d.add(
                ChangeKind.new_purpose,
                (*path, "data_use"),
                f"{name} now serves '{b.data_use}' instead of '{a.data_use}', which makes it a new purpose",
                a.data_use,
                b.data_use,
                reconsent,
            )
        more = _added_categories(a.categories, b.categories)
        fewer = _added_categories(b.categories, a.categories)
        if more:
            d.add(
                ChangeKind.purpose_categories_added,
                (*path, "categories"),
                f"{name} now also uses {_quote(more)}",
                a.categories,
                b.categories,
                reconsent,
            )
        if fewer:
            d.add(
                "purpose_categories_removed",
                (*path, "categories"),
                f"{name} no longer uses {_quote(fewer)}",
                a.categories,
                b.categories,
            )
        if not more and not fewer and set(a.categories) != set(b.categories):
            d.add(
                "purpose_categories_changed",
                (*path, "categories"),
                f"{name} names its categories {_quote(b.categories)}",
                a.categories,
                b.categories,
            )
        if a.consent != b.consent:
            weaker = _CONSENT_STRENGTH[b.consent] < _CONSENT_STRENGTH[a.consent]
            d.add(
                ChangeKind.weaker_consent if weaker else "stronger_consent",
                (*path, "consent"),
                f"{name} consent {'weakened' if weaker else 'strengthened'} "
                f"from {a.consent.value} to {b.consent.value}",
                a.consent,
                b.consent,
                reconsent,
            )
        ra, rb = a.retention, b.retention
        _longer_or_shorter(d, ra.period, rb.period, (*path, "retention", "period"), f"{name} keeps data", reconsent)
        if ra.after != rb.after:
            later = rb.after != RetentionEvent.collection
            d.add(
                ChangeKind.longer_retention if later else "retention_changed",
                (*path, "retention", "after"),
                f"{name} counts its retention from {_words(rb.after.value)} instead of {_words(ra.after.value)}"
                + (", which can keep data longer" if later else ""),
                ra.after,
                rb.after,
                reconsent if later else (),
            )
        if ra.then != rb.then:
            d.add(
                "retention_changed",
                (*path, "retention", "then"),
                f"{name}: at the end of retention data is {rb.then.value}d, not {ra.then.value}d",
                ra.then,
                rb.then,
            )
        d.value(
            _plain(a.legal_basis),
            _plain(b.legal_basis),
            (*path, "legal_basis"),
            f"{name} legal basis",
            "legal_basis_changed",
        )
        d.value(_plain(a.messages), _plain(b.messages), (*path, "messages"), f"{name} e-mails sent", "messages_changed")
        d.fields(
            a,
            b,
            path,
            name,
            "purpose_changed",
            skip={"data_use", "categories", "consent", "retention", "legal_basis", "messages"},
        )

    d.keyed("purposes", d.old.purposes, d.new.purposes, lambda p: p.key, added=added, removed=removed, changed=changed)


@section("roles")
def _roles(d: _Differ) -> None:
    d.keyed(
        "roles",
        d.old.roles,
        d.new.roles,
        lambda r: r.key,
        added=lambda path, r: d.add(
            "role_added",
            path,
            f"new staff role '{r.key}' ({r.label}) serving {_quote(r.purposes) or 'no purpose'}",
            None,
            r.key,
        ),
        removed=lambda path, r: d.add("role_removed", path, f"staff role '{r.key}' removed", r.key, None),
        changed=lambda path, a, b: d.fields(a, b, path, f"role '{b.key}'", "role_changed"),
    )


@section("recipients")
def _recipients(d: _Differ) -> None:
    def sells(r) -> list[str]:
        return (["pays for data"] if r.pays_for_data else []) + (
            ["uses data for its own promotions"] if r.own_promotions else []
        )

    def added(path, r):
        reconsent = d.consent_based(r.purposes)
        gets = "aggregates only" if r.aggregate_only else (_quote(r.categories) or "nothing")
        d.add(
            ChangeKind.new_recipient,
            path,
            f"new recipient '{r.key}' ({r.name}, {r.kind.value}) gets {gets}",
            None,
            r.key,
            reconsent,
        )
        if sells(r):
            d.add(
                ChangeKind.sale_allowed,
                path,
                f"new recipient '{r.key}' {' and '.join(sells(r))}",
                None,
                r.key,
                reconsent,
            )

    def removed(path, r):
        d.add("recipient_removed", path, f"recipient '{r.key}' ({r.name}) removed", r.key, None)

    def changed(path, a, b):
        reconsent = d.consent_based(b.purposes)
        name = f"recipient '{b.key}'"
        more = _added_categories(a.categories, b.categories)
        fewer = _added_categories(b.categories, a.categories)
        if more:
            d.add(
                ChangeKind.recipient_categories_added,
                (*path, "categories"),
                f"{name} now also gets {_quote(more)}",
                a.categories,
                b.categories,
                reconsent,
            )
        if fewer:
            d.add(
                "recipient_categories_removed",
                (*path, "categories"),
                f"{name} no longer gets {_quote(fewer)}",
                a.categories,
                b.categories,
            )
        if not more and not fewer and set(a.categories) != set(b.categories):
            d.add(
                "recipient_changed",
                (*path, "categories"),
                f"{name} names its categories {_quote(b.categories)}",
                a.categories,
                b.categories,
            )
        if a.aggregate_only is not None and b.aggregate_only is None:
            d.add(
                ChangeKind.recipient_categories_added,
                (*path, "aggregate_only"),
                f"{name} now gets identifiable data, not aggregates only",
                a.aggregate_only,
                None,
                reconsent,
            )
        elif a.aggregate_only is None and b.aggregate_only is not None:
            d.add(
                "recipient_changed",
                (*path, "aggregate_only"),
                f"{name} now gets aggregates only",
                None,
                b.aggregate_only,
            )
        elif a.aggregate_only is not None and b.aggregate_only is not None:
            d.fields(
                a.aggregate_only,
                b.aggregate_only,
                (*path, "aggregate_only"),
                f"{name} aggregates",
                "recipient_changed",
            )
        for flag, words in (("pays_for_data", "pays for data"), ("own_promotions", "uses data for its own promotions")):
            was, now = getattr(a, flag), getattr(b, flag)
            if now and not was:
                d.add(ChangeKind.sale_allowed, (*path, flag), f"{name} now {words}", was, now, reconsent)
            elif was and not now:
                d.add("recipient_changed", (*path, flag), f"{name} no longer {words}", was, now)
        d.fields(
            a,
            b,
            path,
            name,
            "recipient_changed",
            skip={"categories", "aggregate_only", "pays_for_data", "own_promotions"},
        )

    d.keyed(
        "recipients", d.old.recipients, d.new.recipients, lambda r: r.key, added=added, removed=removed, changed=changed
    )


@section("reports")
def _reports(d: _Differ) -> None:
    d.keyed(
        "reports",
        d.old.reports,
        d.new.reports,
        lambda r: r.key,
        added=lambda path, r: d.add(
            "report_added", path, f"new report '{r.key}' for '{r.recipient}' by {', '.join(r.dimensions)}", None, r.key
        ),
        removed=lambda path, r: d.add("report_removed", path, f"report '{r.key}' removed", r.key, None),
        changed=lambda path, a, b: d.fields(a, b, path, f"report '{b.key}'", "report_changed"),
    )


@section("cookie_categories")
def _cookie_categories(d: _Differ) -> None:
    d.keyed(
        "cookie_categories",
        d.old.cookie_categories,
        d.new.cookie_categories,
        lambda c: c.key,
        added=lambda path, c: d.add(
            "cookie_category_added", path, f"new cookie category '{c.key}' ({c.label})", None, c.key
        ),
        removed=lambda path, c: d.add(
            "cookie_category_removed", path, f"cookie category '{c.key}' removed", c.key, None
        ),
        changed=lambda path, a, b: d.fields(a, b, path, f"cookie category '{b.key}'", "cookie_category_changed"),
    )


@section("cookies")
def _cookies(d: _Differ) -> None:
    d.keyed(
        "cookies",
        d.old.cookies,
        d.new.cookies,
        lambda c: c.name,
        added=lambda path, c: d.add(
            "cookie_added", path, f"new {c.party}-party cookie '{c.name}' ({c.category}, {c.lifetime})", None, c.name
        ),
        removed=lambda path, c: d.add("cookie_removed", path, f"cookie '{c.name}' removed", c.name, None),
        changed=lambda path, a, b: d.fields(a, b, path, f"cookie '{b.name}'", "cookie_changed"),
    )


@section("holds")
def _holds(d: _Differ) -> None:
    def added(path, h):
        d.add(
            ChangeKind.longer_retention,
            path,
            f"new hold '{h.key}' ({h.reason}) can keep {_quote(h.categories)} for {h.retention.describe()}",
            None,
            h.key,
        )

    def changed(path, a, b):
        name = f"hold '{b.key}'"
        _longer_or_shorter(d, a.retention, b.retention, (*path, "retention"), f"{name} keeps data", ())
        more = _added_categories(a.categories, b.categories)
        if more:
            d.add(
                ChangeKind.longer_retention,
                (*path, "categories"),
                f"{name} can now also keep {_quote(more)}",
                a.categories,
                b.categories,
            )
        elif set(a.categories) != set(b.categories):
            d.value(a.categories, b.categories, (*path, "categories"), f"{name} categories", "hold_changed")
        d.fields(a, b, path, name, "hold_changed", skip={"retention", "categories"})

    d.keyed(
        "holds",
        d.old.holds,
        d.new.holds,
        lambda h: h.key,
        added=added,
        removed=lambda path, h: d.add("hold_removed", path, f"hold '{h.key}' removed", h.key, None),
        changed=changed,
    )


@section("rights")
def _rights(d: _Differ) -> None:
    d.fields(d.old.rights, d.new.rights, ("rights",), "rights", "rights_changed")


@section("limits")
def _limits(d: _Differ) -> None:
    old, new = d.old.limits, d.new.limits
    path = ("limits",)
    if _plain(old.retention_cap) != _plain(new.retention_cap):
        cap = (*path, "retention_cap")
        if new.retention_cap is None:
            d.add(
                ChangeKind.longer_retention,
                cap,
                f"the retention cap of {old.retention_cap.describe()} is removed",
                old.retention_cap,
                None,
            )
        elif old.retention_cap is None:
            d.add(
                "retention_cap_changed",
                cap,
                f"a retention cap of {new.retention_cap.describe()} now applies",
                None,
                new.retention_cap,
            )
        else:
            _longer_or_shorter(d, old.retention_cap, new.retention_cap, cap, "the retention cap is", ())
    if old.never_sell and not new.never_sell:
        d.add(
            ChangeKind.sale_allowed,
            (*path, "never_sell"),
            "the promise never to sell personal data is withdrawn",
            True,
            False,
        )
    elif new.never_sell and not old.never_sell:
        d.add("sale_forbidden", (*path, "never_sell"), "personal data is now never sold", False, True)
    d.fields(old, new, path, "limits", "limits_changed", skip={"retention_cap", "never_sell"})


@section("changes")
def _changes(d: _Differ) -> None:
    d.fields(d.old.changes, d.new.changes, ("changes",), "policy changes", "change_rules_changed")


@section("notice")
def _notice(d: _Differ) -> None:
    d.fields(d.old.notice, d.new.notice, ("notice",), "notice", "notice_changed")
