"""The record of processing activities (GDPR Art. 30 style), built from the declaration like the notice.

One row per purpose says which categories it uses, on what legal basis, who receives them, how long they are
kept, and where they are stored and transferred to (XFR-1). The CSV form has one row per purpose and category.
"""

from __future__ import annotations

import csv
import io

from vowkeep.policy.document import Block, Document, Inline, ItemList, Paragraph, Section, Table, inline, strong
from vowkeep.policy.model import LegalBasis, Policy, Purpose, Recipient, Transfer
from vowkeep.policy.notice import (
    email_span,
    expand_categories,
    link,
    retention_phrase,
    web_href,
)
from vowkeep.policy.taxonomy import covers

LEGAL_BASIS_ARTICLE = {
    LegalBasis.consent: "Consent, Art. 6(1)(a)",
    LegalBasis.contract: "Contract, Art. 6(1)(b)",
    LegalBasis.legal_obligation: "Legal obligation, Art. 6(1)(c)",
    LegalBasis.vital_interest: "Vital interests, Art. 6(1)(d)",
    LegalBasis.public_task: "Public task, Art. 6(1)(e)",
    LegalBasis.legitimate_interest: "Legitimate interests, Art. 6(1)(f)",
}
CONSENT_MODE = {"none": "not needed", "opt_in": "opt-in", "opt_out": "opt-out"}
CSV_COLUMNS = [
    "purpose",
    "purpose_label",
    "data_use",
    "category",
    "category_label",
    "collected_through",
    "legal_basis",
    "consent",
    "recipients",
    "retention",
    "retention_after",
    "retention_then",
    "storage_regions",
    "transfers",
]


def build_ropa(policy: Policy) -> Document:
    """The record of processing activities for a declaration."""
    org = policy.organization
    sections = [
        Section("controller", "Controller", _controller(policy)),
        Section("activities", "Processing activities", _activities(policy)),
        Section("transfers", "Storage and international transfers", _transfers(policy)),
    ]
    if policy.recipients:
        sections.append(Section("recipients", "Recipients", [_recipients_table(policy)]))
    if policy.holds:
        sections.append(Section("holds", "Holds", [_holds_table(policy)]))
    sections.append(Section("security", "Security measures", _security(policy)))
    return Document(
        title=f"Record of processing activities: {org.name}",
        updated=policy.effective_date,
        intro=[
            Paragraph(
                inline(
                    "A record of processing activities in the style of Article 30 of the GDPR, generated from the "
                    f"declaration that {org.name}'s systems enforce."
                )
            )
        ],
        sections=sections,
    )


def recipients_of(policy: Policy, purpose: Purpose) -> list[Recipient]:
    return [r for r in policy.recipients if purpose.key in r.purposes]


def transfers_for(policy: Policy, recipients: list[Recipient]) -> list[Transfer]:
    """Transfers that concern these recipients; a transfer naming no recipient concerns them all."""
    keys = {r.key for r in recipients}
    return [t for t in policy.storage.transfers if not t.recipients or keys & set(t.recipients)]


def _transfer_text(transfer: Transfer) -> str:
    return f"to {transfer.to} ({transfer.safeguard})"


def _collected_through(policy: Policy, purpose: Purpose) -> list[str]:
    points = [c.label for c in policy.collection_points if purpose.key in c.purposes]
    if policy.usage_data and purpose.key in policy.usage_data.purposes:
        points.append("Usage data, collected automatically")
    return points


def _controller(policy: Policy) -> list[Block]:
    org = policy.organization
    contact = org.contact
    items: list[Inline] = [inline(strong("Name:"), f" {org.name}")]
    if org.legal_name:
        items.append(inline(strong("Legal name:"), f" {org.legal_name}"))
    if org.address:
        items.append(inline(strong("Address:"), f" {org.address}"))
    if org.website:
        items.append(inline(strong("Website:"), " ", link(org.website, web_href(org.website))))
    if contact.email:
        items.append(inline(strong("E-mail:"), " ", email_span(contact.email)))
    if contact.url:
        items.append(inline(strong("Contact page:"), " ", link(contact.url, web_href(contact.url))))
    if contact.phone:
        items.append(inline(strong("Phone:"), f" {contact.phone}"))
    for label, value in (
        ("Jurisdiction", org.jurisdiction),
        ("Governing law", org.governing_law),
        ("Courts", org.courts),
    ):
        if value:
            items.append(inline(strong(f"{label}:"), f" {value}"))
    items.append(inline(strong("Declaration effective:"), f" {policy.effective_date.isoformat()}"))
    return [ItemList(items)]


def _activities(policy: Policy) -> list[Block]:
    rows = []
    for purpose in policy.purposes:
        recipients = recipients_of(policy, purpose)
        where = [f"stored in {', '.join(policy.storage.regions)}"]
        where += [_transfer_text(t) for t in transfers_for(policy, recipients)]
        rows.append(
            [
                inline(purpose.label),
                inline(purpose.data_use),
                inline("; ".join(label for _, label in expand_categories(policy, purpose.categories)) or "none"),
                inline("; ".join(_collected_through(policy, purpose)) or "—"),
                inline(LEGAL_BASIS_ARTICLE[purpose.legal_basis]),
                inline(CONSENT_MODE[purpose.consent.value]),
                inline("; ".join(r.name for r in recipients) or "none"),
                inline(retention_phrase(purpose)),
                inline("; ".join(where)),
            ]
        )
    blocks: list[Block] = [
        Table(
            id="activities-table",
            caption="Processing activities by purpose",
            headers=[
                "Purpose",
                "Data use",
                "Categories of personal data",
                "Collected through",
                "Legal basis",
                "Consent",
                "Recipients",
                "Retention",
                "Storage and transfers",
            ],
            rows=rows,
        )
    ]
    if policy.limits.retention_cap:
        blocks.append(Paragraph(inline(f"Retention cap for every purpose: {policy.limits.retention_cap.describe()}.")))
    if policy.limits.never_store:
        labels = "; ".join(label for _, label in expand_categories(policy, policy.limits.never_store))
        blocks.append(Paragraph(inline(f"Never stored: {labels}.")))
    if policy.limits.never_sell:
        blocks.append(Paragraph(inline("Personal information is never sold.")))
    return blocks


def _transfers(policy: Policy) -> list[Block]:
    storage = policy.storage
    blocks: list[Block] = [Paragraph(inline(f"Storage regions: {', '.join(storage.regions)}."))]
    if not storage.transfers:
        blocks.append(Paragraph(inline("No international transfers are declared.")))
        return blocks
    rows = []
    for transfer in storage.transfers:
        names = [policy.recipient_by_key[k].name for k in transfer.recipients if k in policy.recipient_by_key]
        rows.append([inline(transfer.to), inline(transfer.safeguard), inline("; ".join(names) or "all recipients")])
    blocks.append(
        Table(
            id="transfers-table",
            caption="International transfers",
            headers=["Transferred to", "Safeguard", "Recipients"],
            rows=rows,
        )
    )
    return blocks


def _recipients_table(policy: Policy) -> Table:
    rows = []
    for recipient in policy.recipients:
        conditions = []
        if recipient.aggregate_only:
            conditions.append(f"aggregates only, groups of at least {recipient.aggregate_only.min_group_size}")
        if recipient.requires_approval:
            conditions.append("each release approved by an operator")
        if recipient.own_promotions:
            conditions.append("own promotions")
        if recipient.pays_for_data:
            conditions.append("pays for data")
        safeguards = [_transfer_text(t) for t in transfers_for(policy, [recipient])]
        rows.append(
            [
                inline(recipient.name),
                inline(recipient.kind.value),
                inline(recipient.country or "—"),
                inline("; ".join(label for _, label in expand_categories(policy, recipient.categories))),
                inline("; ".join(policy.purpose_by_key[k].label for k in recipient.purposes)),
                inline("; ".join(safeguards) or "none"),
                inline("; ".join(conditions)),
            ]
        )
    return Table(
        id="recipients-table",
        caption="Recipients",
        headers=["Recipient", "Kind", "Country", "Categories", "Purposes", "Transfers and safeguards", "Conditions"],
        rows=rows,
    )


def _holds_table(policy: Policy) -> Table:
    rows = [
        [
            inline(hold.reason),
            inline(policy.purpose_by_key[hold.purpose].label),
            inline("; ".join(label for _, label in expand_categories(policy, hold.categories))),
            inline(f"up to {hold.retention.describe()}, isolated"),
        ]
        for hold in policy.holds
    ]
    return Table(
        id="holds-table",
        caption="Holds: data kept isolated beyond its purposes",
        headers=["Hold", "Purpose", "Categories", "Kept"],
        rows=rows,
    )


def _security(policy: Policy) -> list[Block]:
    items = [inline(m) for m in policy.notice.security_measures]
    items += [
        inline("Field-level encryption at rest (AES-256-GCM) with a data key per person, wrapped by a master key."),
        inline("Append-only, hash-chained audit log of every access, change, disclosure and decision."),
        inline("Role-based access: each role may read personal data only for the declared purposes it serves."),
    ]
    return [ItemList(items)]


def render_ropa_csv(policy: Policy) -> str:
    """The record as CSV: one row per purpose and category, keys and labels side by side."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for purpose in policy.purposes:
        recipients = recipients_of(policy, purpose)
        for key, label in expand_categories(policy, purpose.categories) or [("", "")]:
            receiving = [r.name for r in recipients if any(covers(rc, key) or covers(key, rc) for rc in r.categories)]
            transfers = transfers_for(policy, [r for r in recipients if r.name in receiving])
            writer.writerow(
                _csv_safe(value)
                for value in (
                    purpose.key,
                    purpose.label,
                    purpose.data_use,
                    key,
                    label,
                    "; ".join(_collected_through(policy, purpose)),
                    purpose.legal_basis.value,
                    purpose.consent.value,
                    "; ".join(receiving),
                    purpose.retention.period.text,
                    purpose.retention.after.value,
                    purpose.retention.then.value,
                    "; ".join(policy.storage.regions),
                    "; ".join(_transfer_text(t) for t in transfers),
                )
            )
    return out.getvalue()


def _csv_safe(value: str) -> str:
    # A cell opened in a spreadsheet must not run as a formula (CSV injection).
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
