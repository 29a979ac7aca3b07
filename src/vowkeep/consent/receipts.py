"""Consent receipts in the Kantara Initiative Consent Receipt Specification 1.1 format (JSON).

A receipt names the controller, the policy version the consent was given under, and each purpose consented to with
its purpose and personal-information categories, its consent type, how long it lasts and who else gets the data.
The subject appears by their pseudonymous id, never by name or address: a receipt holds no personal data.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from vowkeep.consent.ledger import Choice, ConsentRecord, Method
from vowkeep.policy.model import ConsentMode, Policy, Purpose, RecipientKind
from vowkeep.policy.taxonomy import covers

VERSION = "KI-CR-v1.1.0"

# Appendix A of the specification, matched on fideslang data uses (the longest matching prefix wins).
_PURPOSE_CATEGORIES = {
    "essential": "1 - Core Function",
    "essential.service": "1 - Core Function",
    "essential.service.payment_processing": "2 - Contracted Service",
    "essential.service.notifications": "4 - Contact Requested",
    "essential.service.operations.support": "4 - Contact Requested",
    "essential.legal_obligation": "12 - Legally Required Data Retention",
    "essential.fraud_detection": "15 - Protecting Our Interests",
    "personalize": "5 - Personalize Experience",
    "marketing": "6 - Marketing",
    "marketing.advertising.third_party": "7 - Marketing Third Parties",
    "third_party_sharing": "9 - Sharing for Marketing",
    "analytics": "16 - Improve Performance",
    "functional": "16 - Improve Performance",
}

# Appendix B of the specification, matched on fideslang data categories.
_PII_CATEGORIES = {
    "user.name": "1 - Biographical",
    "user.demographic": "1 - Biographical",
    "user.contact": "2 - Contact",
    "user.biometric": "3 - Biometric",
    "user.content": "4 - Communications/Social",
    "user.social": "4 - Communications/Social",
    "user.device": "5 - Network/Service",
    "user.authorization": "5 - Network/Service",
    "user.account": "5 - Network/Service",
    "user.unique_id": "5 - Network/Service",
    "user.health_and_medical": "6 - Health",
    "user.financial": "7 - Financial",
    "user.payment": "7 - Financial",
    "user.government_id": "8 - Official ID",
    "user.criminal_history": "10 - Judicial",
    "user.location": "4 - Communications/Social",
    "user.behavior": "15 - Behavioral",
    "user.demographic.profile": "16 - Profiling",
}
_SENSITIVE = ("user.biometric", "user.health_and_medical", "user.genetic", "user.criminal_history")

_METHODS = {
    Method.form: "Web form",
    Method.banner: "Cookie banner",
    Method.email_link: "Link in an e-mail",
    Method.api: "The business's systems, through the API",
    Method.gpc: "Global Privacy Control signal of the browser",
    Method.guardian: "A parent or guardian, for a minor",
    Method.operator: "Recorded by staff",
    Method.request: "A data-subject request",
    Method.center: "Privacy centre",
}


class NoReceipt(ValueError):
    """Receipts are issued for consents given; a refusal or withdrawal has none."""


def _longest(mapping: dict[str, str], key: str) -> str | None:
    best = None
    for prefix, value in mapping.items():
        if (key == prefix or key.startswith(prefix + ".")) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, value)
    return best[1] if best else None


def _pii_categories(categories: Iterable[str]) -> list[str]:
    found = {_longest(_PII_CATEGORIES, c) or "5 - Network/Service" for c in categories}
    return sorted(found, key=lambda v: int(v.split(" ")[0]))


def _termination(purpose: Purpose) -> str:
    return f"{purpose.retention.period.describe()} after {purpose.retention.after.value.replace('_', ' ')}"


def _third_parties(policy: Policy, purpose: Purpose) -> list[str]:
    return [r.name for r in policy.recipients if purpose.key in r.purposes and r.kind != RecipientKind.processor]


def _purpose_entry(policy: Policy, purpose: Purpose, primary: bool) -> dict:
    third = _third_parties(policy, purpose)
    entry = {
        "purpose": purpose.label,
        "purposeCategory": [_longest(_PURPOSE_CATEGORIES, purpose.data_use) or "1 - Core Function"],
        "consentType": {ConsentMode.opt_in: "EXPLICIT", ConsentMode.opt_out: "IMPLICIT"}.get(purpose.consent, "N/A"),
        "piiCategory": _pii_categories(purpose.categories),
        "primaryPurpose": primary,
        "termination": _termination(purpose),
        "thirdPartyDisclosure": bool(third),
    }
    if third:
        entry["thirdPartyName"] = ", ".join(third)
    return entry


def receipt_id(base_url: str, records: Iterable[ConsentRecord]) -> str:
    """A stable id: the same records always make the same receipt id."""
    ids = ",".join(str(r.id) for r in records)
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{base_url}/consent-receipts/{ids}"))


def build_receipt(
    *, policy: Policy, records: list[ConsentRecord], subject_id: str, base_url: str, language: str = "en"
) -> dict:
    """A Kantara 1.1 receipt for given consents of one subject (one record, or the current state of several)."""
    given = [r for r in records if r.choice == Choice.given]
    if not given or len(given) != len(records):
        raise NoReceipt("a receipt is issued for consents given; refusals and withdrawals have none")
    organization = policy.organization
    contact = organization.contact
    jurisdiction = organization.jurisdiction or (policy.storage.regions[0] if policy.storage.regions else "")
    latest = max(given, key=lambda r: r.recorded_at)
    purposes = [policy.purpose_by_key[r.purpose] for r in given if r.purpose in policy.purpose_by_key]
    if not purposes:
        raise NoReceipt("the consents name no purpose of the declaration in force")
    sensitive = sorted(
        {
            _longest(_PII_CATEGORIES, c) or c
            for p in purposes
            for c in p.categories
            if any(covers(s, c) for s in _SENSITIVE)
        }
    )
    methods = sorted({_METHODS.get(r.method, r.method.value) for r in given})
    versions = sorted({r.policy_version for r in given})
    return {
        "version": VERSION,
        "jurisdiction": jurisdiction,
        "consentTimestamp": int(latest.recorded_at.timestamp()),
        "collectionMethod": "; ".join(methods),
        "consentReceiptID": receipt_id(base_url, given),
        "language": language,
        "piiPrincipalId": subject_id,
        "piiControllers": [
            {
                "piiController": organization.legal_name or organization.name,
                "contact": contact.url or contact.email or contact.phone or "",
                "address": {"streetAddress": organization.address or "", "addressCountry": jurisdiction},
                "email": contact.email or "",
                "phone": contact.phone or "",
                **({"piiControllerUrl": organization.website} if organization.website else {}),
            }
        ],
        "policyUrl": f"{base_url}/privacy/versions/{versions[-1]}",
        "services": [
            {
                "service": organization.name,
                "purposes": [_purpose_entry(policy, p, primary=i == 0) for i, p in enumerate(purposes)],
            }
        ],
        "sensitive": bool(sensitive),
        "spiCat": sensitive,
    }
