"""The human notice, built from the declaration alone (NTC-1), in the sections and order the seed policies use.

Every sentence is either the declaration's own words (labels, names, `notice:` texts) or a fixed plain-language
phrase chosen by a declared value, so the notice cannot promise what the declaration does not say.
"""

from __future__ import annotations

import datetime as dt

from vowkeep.policy.document import (
    Block,
    Document,
    Inline,
    ItemList,
    Paragraph,
    Section,
    Span,
    Subheading,
    Table,
    inline,
    join_words,
    link,
    strong,
)
from vowkeep.policy.model import (
    Channel,
    ConsentMode,
    Cookie,
    LegalBasis,
    MessageKind,
    Policy,
    Purpose,
    RecipientKind,
    RequestChannel,
    RetentionAction,
    RetentionEvent,
    Right,
)
from vowkeep.policy.taxonomy import covers

# Stable anchors, in the order of the notice: links to `/privacy#cookies` must keep working across versions.
SECTION_IDS = (
    "collect",
    "use",
    "sharing",
    "cookies",
    "social-logins",
    "transfers",
    "third-party-sites",
    "retention",
    "security",
    "children",
    "rights",
    "changes",
    "contact",
    "jurisdiction",
)
ALWAYS_PRESENT = ("rights", "changes", "contact")
COOKIE_TABLE_ID = "cookie-table"

LEGAL_BASIS = {
    LegalBasis.consent: "your consent",
    LegalBasis.contract: "it is needed to provide the service you asked for (our contract with you)",
    LegalBasis.legal_obligation: "the law requires it",
    LegalBasis.legitimate_interest: "our legitimate interests, weighed against your rights",
    LegalBasis.vital_interest: "it is needed to protect someone's life or safety",
    LegalBasis.public_task: "it is needed for a task in the public interest",
}
CONSENT = {
    ConsentMode.opt_in: "Only with your consent. You can withdraw it at any time.",
    ConsentMode.opt_out: "Until you object. You can opt out at any time.",
}
RETENTION_EVENT = {
    RetentionEvent.collection: "after we collect it",
    RetentionEvent.last_activity: "after your last activity",
    RetentionEvent.account_closure: "after you close your account",
    RetentionEvent.withdrawal: "after you withdraw your consent or object",
}
RETENTION_ACTION = {RetentionAction.delete: "deleted", RetentionAction.anonymise: "anonymised"}
USAGE_SIGNALS = {
    "pages": "the pages you visit",
    "links": "the links you click",
    "visit_counts": "how often you visit",
    "purchase_counts": "how many purchases you make",
    "referrer": "the website that sent you to us",
    "browser": "your browser type",
    "os": "your operating system",
    "device_class": "the kind of device you use",
    "language": "your language preference",
    "search_terms": "what you search for on our website",
    "time_on_site": "how long you stay",
    "country": "your country",
}
RIGHTS = {
    Right.access: (
        "See your information",
        "get a copy of everything we hold about you: what it is, why we hold it, where it came from, "
        "who we shared it with and how long we keep it.",
    ),
    Right.rectify: ("Correct it", "have information that is wrong or incomplete fixed."),
    Right.erase: (
        "Delete it",
        "close your account and have your information deleted. If the law makes us keep something, "
        "we tell you what, why and until when.",
    ),
    Right.deactivate: (
        "Deactivate your account",
        "pause your account without deleting it; we stop using your information until you come back.",
    ),
    Right.restrict: ("Restrict its use", "have us stop using your information while a question about it is settled."),
    Right.object: (
        "Object",
        "stop us using your information for purposes that rely on our legitimate interests or that run "
        "until you object, such as marketing.",
    ),
    Right.portability: ("Take it with you", "receive your information in a machine-readable format (JSON)."),
}
REQUEST_CHANNELS = {
    RequestChannel.center: "in the privacy centre on our website",
    RequestChannel.email: "by e-mail",
    RequestChannel.phone: "by phone",
    RequestChannel.agent: "through an authorized agent acting for you (Data Rights Protocol)",
}
CHANGE_KINDS = {
    "new_category": "collecting a new kind of information",
    "new_purpose": "using your information for a new purpose",
    "new_recipient": "sharing your information with a new recipient",
    "longer_retention": "keeping your information longer",
    "lower_minimum_age": "lowering the minimum age",
    "weaker_consent": "relying less on your consent",
    "new_transfer": "transferring your information to a new country or region",
    "purpose_categories_added": "using more of your information for an existing purpose",
    "recipient_categories_added": "sharing more of your information with an existing recipient",
    "sale_allowed": "starting to sell personal information",
}
RECIPIENT_GROUPS = {
    RecipientKind.processor: (
        "Service providers",
        "They work on our behalf and may use your information only to provide their service to us.",
    ),
    RecipientKind.affiliate: ("Our affiliates", None),
    RecipientKind.partner: ("Business partners", None),
    RecipientKind.advertiser: ("Advertisers", None),
    RecipientKind.authority: ("Courts, authorities and law enforcement", None),
    RecipientKind.acquirer: ("Business transfers", "If our business, or part of it, is sold or merged."),
}
PROVIDERS = {
    "facebook": "Facebook",
    "twitter": "Twitter",
    "x": "X",
    "google": "Google",
    "apple": "Apple",
    "github": "GitHub",
    "gitlab": "GitLab",
    "linkedin": "LinkedIn",
    "microsoft": "Microsoft",
    "instagram": "Instagram",
}


def build_notice(policy: Policy, *, version: int | None = None, updated: dt.date | None = None) -> Document:
    """The whole notice for a declaration: header facts, introduction and its sections in order."""
    org = policy.organization
    builders = {
        "collect": _collect,
        "use": _use,
        "sharing": _sharing,
        "cookies": _cookies,
        "social-logins": _social_logins,
        "transfers": _transfers,
        "third-party-sites": _third_party_sites,
        "retention": _retention,
        "security": _security,
        "children": _children,
        "rights": _rights,
        "changes": _changes,
        "contact": _contact,
        "jurisdiction": _jurisdiction,
    }
    sections = []
    for section_id in SECTION_IDS:
        title, blocks = builders[section_id](policy)
        if blocks or section_id in ALWAYS_PRESENT:
            sections.append(Section(section_id, title, blocks))
    intro: list[Block] = []
    if policy.notice.introduction:
        intro.append(Paragraph(inline(policy.notice.introduction)))
    intro.append(
        Paragraph(
            inline(
                f"This policy explains what personal information {org.name} collects about you, why, "
                "who we share it with, how long we keep it, and the rights you have. "
                "Our systems enforce the same rules this policy describes."
            )
        )
    )
    return Document(
        title=f"{org.name} Privacy Policy",
        updated=updated or policy.effective_date,
        version=version,
        intro=intro,
        sections=sections,
    )


# --- shared wording ----------------------------------------------------------------------------


def expand_categories(policy: Policy, keys: list[str]) -> list[tuple[str, str]]:
    """(key, label) of the declared categories a list of keys covers; a parent key names all its children."""
    found: dict[str, str] = {}
    for key in keys:
        if key in policy.category_by_key:
            matches = [policy.category_by_key[key]]
        else:
            # A parent key: every declared category under it, except those never stored.
            matches = [
                c
                for c in policy.categories
                if covers(key, c.key) and not any(covers(n, c.key) for n in policy.limits.never_store)
            ]
        if not matches:
            found.setdefault(key, _taxonomy_name(key))
        for category in matches:
            found.setdefault(category.key, category.label)
    return list(found.items())


def category_labels(policy: Policy, keys: list[str]) -> list[str]:
    """Labels of the declared categories a list of keys covers, each once."""
    labels: list[str] = []
    for _, label in expand_categories(policy, keys):
        if label not in labels:
            labels.append(label)
    return labels


def _taxonomy_name(key: str) -> str:
    from vowkeep.policy.taxonomy import data_categories

    return data_categories().get(key, key)


def purpose_labels(policy: Policy, keys: list[str]) -> list[str]:
    return [policy.purpose_by_key[k].label if k in policy.purpose_by_key else k for k in keys]


def retention_phrase(purpose: Purpose) -> str:
    """`1 month after you close your account, then deleted`."""
    retention = purpose.retention
    event = RETENTION_EVENT[retention.after]
    if retention.after == RetentionEvent.withdrawal:
        event = {
            ConsentMode.opt_in: "after you withdraw your consent",
            ConsentMode.opt_out: "after you object",
        }.get(purpose.consent, event)
    return f"{retention.period.describe()} {event}, then {RETENTION_ACTION[retention.then]}"


def cookie_lifetime(cookie: Cookie) -> str:
    if cookie.lifetime == "session":
        return "Until you close your browser"
    from vowkeep.policy.duration import Duration

    return Duration.parse(cookie.lifetime).describe()


def web_href(url: str | None) -> str | None:
    """A link target for a declared address: `www.…` gains `https://`; other schemes are not linked."""
    if not url:
        return None
    if url.lower().startswith(("http://", "https://")):
        return url
    if url.lower().startswith("www."):
        return "https://" + url
    return None


def email_span(email: str) -> Span:
    return link(email, "mailto:" + email)


def _contact_span(value: str) -> Span:
    """A free-form contact (an e-mail, an address or a phone number), linked when it is one."""
    if "@" in value and " " not in value.strip():
        return email_span(value.strip())
    return link(value, web_href(value.strip()))


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?", ":")) else text + "."


def _provider(name: str) -> str:
    return PROVIDERS.get(name.lower(), name[:1].upper() + name[1:])


# --- sections ----------------------------------------------------------------------------------


def _collect(policy: Policy) -> tuple[str, list[Block]]:
    blocks: list[Block] = []
    given_channels = {Channel.form, Channel.email, Channel.phone, Channel.api}
    given = [c for c in policy.collection_points if c.channel in given_channels]
    social = [c for c in policy.collection_points if c.channel == Channel.social_login]
    other = [c for c in policy.collection_points if c.channel in (Channel.import_, Channel.client_upload)]
    usage = policy.usage_data if policy.usage_data and policy.usage_data.collect else None

    if given or social:
        blocks.append(Subheading("Information you give us"))
        items: list[Inline] = []
        for point in given:
            required = category_labels(policy, [f.category for f in point.fields if f.required])
            optional = [
                label
                for label in category_labels(policy, [f.category for f in point.fields if not f.required])
                if label not in required
            ]
            parts: list[str | Span] = [strong(_sentence(point.label)), " "]
            if point.description:
                parts.append(_sentence(point.description) + " ")
            if required:
                parts.append(f"We ask for: {join_words(required)}.")
            if optional:
                parts.append((" Optional: " if required else "Optional: ") + join_words(optional) + ".")
            items.append(inline(*parts))
        for point in social:
            providers = join_words([_provider(p) for p in point.providers], "or") or "a social network"
            items.append(
                inline(
                    strong(_sentence(point.label)),
                    f" If you sign up with {providers}, we receive part of your profile: see ",
                    link("How do we handle your social logins?", "#social-logins"),
                    ".",
                )
            )
        blocks.append(ItemList(items))
    if policy.limits.never_store:
        labels = category_labels(policy, policy.limits.never_store)
        blocks.append(Paragraph(inline(strong("We never store:"), f" {join_words(labels)}.")))

    if usage:
        blocks.append(Subheading("Information collected automatically"))
        signals = join_words([USAGE_SIGNALS[s.value] for s in usage.collect])
        blocks.append(Paragraph(inline(f"When you visit our website we automatically record {signals}.")))
        facts = []
        facts.append(
            "It is recorded under a random visitor number, not under your name or contact details."
            if not usage.per_subject_counts
            else "It is recorded under a random visitor number; if you have an account, we also keep counts "
            "of your visits and purchases with it."
        )
        if usage.ip_address == "country_only":
            facts.append("We use your IP address only to work out your country, then discard it; we never store it.")
        else:
            facts.append("We store only a shortened IP address, with its last part removed.")
        facts.append(
            f"Detailed records of visits are kept for {usage.raw_retention.describe()}; after that only "
            "statistics remain."
        )
        category = policy.cookie_category_by_key.get(usage.cookie_category)
        if category and not category.essential:
            facts.append(f"We record this only if you accept {category.label} cookies.")
        if usage.purposes:
            facts.append(f"We use it for: {join_words(purpose_labels(policy, usage.purposes))}.")
        blocks.append(Paragraph(inline(" ".join(facts))))

    if other:
        blocks.append(Subheading("Information from other sources"))
        items = []
        for point in other:
            labels = join_words(category_labels(policy, [f.category for f in point.fields]))
            if point.channel == Channel.client_upload:
                origin = "provided by our clients"
            else:
                origin = f"from {join_words(point.sources)}" if point.sources else "from other sources"
            parts = [strong(_sentence(point.label)), f" {origin[:1].upper()}{origin[1:]} we receive: {labels}."]
            if point.description:
                parts.append(" " + _sentence(point.description))
            parts.append(
                f" We use it only for {join_words(purpose_labels(policy, point.purposes))}, and it follows "
                "the same rules as the information you give us."
            )
            items.append(inline(*parts))
        blocks.append(ItemList(items))
    return "What information do we collect?", blocks


def _use(policy: Policy) -> tuple[str, list[Block]]:
    items: list[Inline] = []
    service_messages = any(p.messages == MessageKind.service for p in policy.purposes)
    for purpose in policy.purposes:
        parts: list[str | Span] = [strong(_sentence(purpose.label))]
        if purpose.description:
            parts.append(" " + _sentence(purpose.description))
        labels = category_labels(policy, purpose.categories)
        if labels:
            parts.append(f" What we use: {join_words(labels)}.")
        parts.append(f" Legal basis: {LEGAL_BASIS[purpose.legal_basis]}.")
        if purpose.consent in CONSENT:
            parts.append(" " + CONSENT[purpose.consent])
        if purpose.messages == MessageKind.marketing:
            parts.append(" Every marketing e-mail has a one-click unsubscribe link.")
        elif purpose.messages == MessageKind.service:
            parts.append(
                " These e-mails are about your account: you receive them even if you unsubscribe from marketing."
            )
        parts.append(f" How long: {retention_phrase(purpose)}.")
        items.append(inline(*parts))
    blocks: list[Block] = [
        Paragraph(inline("We use your information only for these purposes, and only the information each one needs:")),
        ItemList(items),
    ]
    if service_messages and any(p.messages == MessageKind.marketing for p in policy.purposes):
        blocks.append(
            Paragraph(
                inline(
                    "If you unsubscribe from marketing e-mail, we still send the service e-mails needed to run "
                    "your account."
                )
            )
        )
    return "How do we use your information?", blocks


def _recipient_conditions(policy: Policy, recipient) -> list[str]:
    conditions = []
    if recipient.aggregate_only:
        text = (
            "Aggregate statistics only, in groups of at least "
            f"{recipient.aggregate_only.min_group_size} people; never information about you individually."
        )
        if recipient.aggregate_only.epsilon_budget is not None:
            text += " Random noise is added so that no one can be singled out."
        conditions.append(text)
    if recipient.requires_approval:
        conditions.append("Only after we review and approve each request.")
    modes = {policy.purpose_by_key[k].consent for k in recipient.purposes if k in policy.purpose_by_key}
    if modes == {ConsentMode.opt_in}:
        conditions.append("Only with your consent.")
    elif modes and modes <= {ConsentMode.opt_in, ConsentMode.opt_out}:
        conditions.append("Only with your consent, or until you object.")
    if recipient.own_promotions:
        conditions.append("They may use it for their own offers.")
    if recipient.pays_for_data:
        conditions.append("They pay us for it.")
    return conditions


def _sharing(policy: Policy) -> tuple[str, list[Block]]:
    blocks: list[Block] = []
    if policy.limits.never_sell:
        blocks.append(Paragraph(inline(strong("We never sell your personal information."))))
    if policy.recipients:
        blocks.append(
            Paragraph(inline("We share your information only with the recipients below, and only what each needs."))
        )
    for kind, (heading, lead) in RECIPIENT_GROUPS.items():
        group = [r for r in policy.recipients if r.kind == kind]
        if not group:
            continue
        blocks.append(Subheading(heading))
        if lead:
            blocks.append(Paragraph(inline(lead)))
        if kind == RecipientKind.affiliate and policy.organization.affiliates:
            blocks.append(Paragraph(inline(f"Who counts as an affiliate: {_sentence(policy.organization.affiliates)}")))
        items: list[Inline] = []
        for recipient in group:
            parts: list[str | Span] = [strong(_sentence(recipient.name))]
            if recipient.country:
                parts.append(f" Located in {recipient.country}.")
            if recipient.description:
                parts.append(" " + _sentence(recipient.description[:1].upper() + recipient.description[1:]))
            labels = category_labels(policy, recipient.categories)
            if labels:
                parts.append(f" What they receive: {join_words(labels)}.")
            if recipient.purposes:
                parts.append(f" For: {join_words(purpose_labels(policy, recipient.purposes))}.")
            for condition in _recipient_conditions(policy, recipient):
                parts.append(" " + condition)
            items.append(inline(*parts))
        blocks.append(ItemList(items))
    if policy.notice.public_content:
        blocks.append(Subheading("Other users"))
        blocks.append(Paragraph(inline(_sentence(policy.notice.public_content))))
    return "Who do we share your information with?", blocks


def cookie_table(policy: Policy) -> Table:
    """Every declared cookie: name, category, purpose, lifetime, first or third party (CK-4)."""
    rows = []
    for cookie in policy.cookies:
        category = policy.cookie_category_by_key.get(cookie.category)
        purpose = policy.purpose_by_key.get(cookie.purpose) if cookie.purpose else None
        # Without a purpose of its own, a cookie serves its category's purposes.
        serves = purpose.label if purpose else join_words(purpose_labels(policy, category.purposes if category else []))
        what = cookie.description or serves or (category.description if category else "") or ""
        if cookie.description and serves:
            what = f"{cookie.description.rstrip('. ')} ({serves})"
        party = "First party" if cookie.party == "first" else "Third party"
        if cookie.provider:
            party += f": {cookie.provider}"
        rows.append(
            [
                inline(cookie.name),
                inline(category.label if category else cookie.category),
                inline(what),
                inline(cookie_lifetime(cookie)),
                inline(party),
            ]
        )
    return Table(
        id=COOKIE_TABLE_ID,
        caption="Cookies we use",
        headers=["Cookie", "Category", "Purpose", "Lifetime", "First or third party"],
        rows=rows,
    )


def _cookies(policy: Policy) -> tuple[str, list[Block]]:
    title = "Do we use cookies and other tracking technologies?"
    if not policy.cookies and not policy.cookie_categories:
        return title, []
    blocks: list[Block] = [
        Paragraph(
            inline(
                "Cookies are small files a website stores in your browser. We group ours in categories. "
                "Essential cookies are always on; no other cookie is set until you accept its category."
            )
        )
    ]
    if policy.cookie_categories:
        items = []
        for category in policy.cookie_categories:
            parts: list[str | Span] = [strong(_sentence(category.label))]
            if category.essential and "always on" not in (category.description or "").lower():
                parts.append(" Always on.")
            if category.description:
                parts.append(" " + _sentence(category.description))
            if category.purposes:
                parts.append(f" Used for: {join_words(purpose_labels(policy, category.purposes))}.")
            if category.advertising:
                parts.append(" Counts as selling or sharing under some laws.")
            items.append(inline(*parts))
        blocks.append(ItemList(items))
    if policy.cookies:
        blocks.append(cookie_table(policy))
    blocks.append(Subheading("Changing your choices"))
    blocks.append(
        Paragraph(
            inline(
                "You can accept or decline each category except essential cookies in our cookie banner, and "
                "change your choice at any time from the cookie settings on our website. A category you decline "
                "stays declined. Your browser can also block or delete cookies."
            )
        )
    )
    advertising = [c.label for c in policy.cookie_categories if c.advertising]
    gpc = "If your browser sends a Global Privacy Control signal, we honour it as your choice to opt out of "
    if advertising:
        gpc += f"{join_words(advertising)} cookies and of any sale or sharing of your information."
    else:
        gpc += "any sale or sharing of your information."
    blocks.append(Paragraph(inline(gpc)))
    return title, blocks


def _social_logins(policy: Policy) -> tuple[str, list[Block]]:
    blocks: list[Block] = []
    social = [c for c in policy.collection_points if c.channel == Channel.social_login]
    for point in social:
        providers = join_words([_provider(p) for p in point.providers], "or") or "a social network"
        kept = category_labels(policy, [f.category for f in point.fields])
        kept_keys = {f.category for f in point.fields}
        dropped = [
            c.label
            for c in policy.categories
            if covers("user.social", c.key) and not any(covers(k, c.key) for k in kept_keys)
        ]
        if len(social) > 1:
            blocks.append(Subheading(point.label))
        text = (
            f"You can sign up with {providers}. Your provider then sends us your profile information. "
            f"We keep only: {join_words(kept)}. Everything else it sends"
        )
        text += f", such as your {join_words(dropped)}," if dropped else ""
        text += " is discarded before anything is stored."
        blocks.append(Paragraph(inline(text)))
        blocks.append(
            Paragraph(
                inline(
                    f"We use it only for {join_words(purpose_labels(policy, point.purposes))}. We do not control "
                    "how your social network uses your information: its own privacy policy explains that."
                )
            )
        )
    return "How do we handle your social logins?", blocks


def _transfers(policy: Policy) -> tuple[str, list[Block]]:
    storage = policy.storage
    blocks: list[Block] = [Paragraph(inline(f"Where we store your information: {join_words(storage.regions)}."))]
    if storage.transfers:
        blocks.append(
            Paragraph(
                inline("Some of it is transferred to other countries, each time with a safeguard that protects it:")
            )
        )
        items = []
        for transfer in storage.transfers:
            parts: list[str | Span] = [strong(f"To {transfer.to}."), f" Safeguard: {_sentence(transfer.safeguard)}"]
            if transfer.recipients:
                names = [policy.recipient_by_key[k].name for k in transfer.recipients if k in policy.recipient_by_key]
                parts.append(f" Received by: {join_words(names)}.")
            items.append(inline(*parts))
        blocks.append(ItemList(items))
    else:
        blocks.append(Paragraph(inline("We do not transfer it to other countries.")))
    return "Is your information transferred internationally?", blocks


def _third_party_sites(policy: Policy) -> tuple[str, list[Block]]:
    text = policy.notice.third_party_sites
    return "What is our stance on third-party websites?", [Paragraph(inline(_sentence(text)))] if text else []


def _retention(policy: Policy) -> tuple[str, list[Block]]:
    blocks: list[Block] = [
        Paragraph(inline("We keep your information only as long as the purpose it was collected for needs it:")),
        ItemList([inline(strong(_sentence(p.label)), f" {retention_phrase(p)}.") for p in policy.purposes]),
    ]
    if policy.limits.retention_cap:
        blocks.append(
            Paragraph(
                inline(
                    f"No purpose keeps your information longer than {policy.limits.retention_cap.describe()}.",
                )
            )
        )
    if policy.usage_data and policy.usage_data.collect:
        blocks.append(
            Paragraph(
                inline(
                    f"Detailed records of visits are kept for {policy.usage_data.raw_retention.describe()}, "
                    "then only statistics remain."
                )
            )
        )
    if policy.holds:
        blocks.append(
            Paragraph(
                inline(
                    "In some cases we must keep information longer. It is then kept isolated: used for nothing "
                    "but the reason it is kept, and deleted when that ends."
                )
            )
        )
        blocks.append(
            ItemList(
                [
                    inline(
                        strong(_sentence(hold.reason)),
                        f" {join_words(category_labels(policy, hold.categories))}: kept isolated for up to "
                        f"{hold.retention.describe()}.",
                    )
                    for hold in policy.holds
                ]
            )
        )
    blocks.append(
        Paragraph(
            inline(
                "When a period ends we delete your information, or anonymise it so it can no longer be linked to you."
            )
        )
    )
    return "How long do we keep your information?", blocks


def _security(policy: Policy) -> tuple[str, list[Block]]:
    items = [inline(_sentence(m)) for m in policy.notice.security_measures]
    items += [
        inline(
            "Every piece of your personal information is encrypted in our database with AES-256-GCM, using a key "
            "that is yours alone."
        ),
        inline(
            "Every access to your information, every change and every decision to allow or refuse it is recorded "
            "in an audit log that cannot be altered without detection."
        ),
        inline(
            "Access is limited by role: our staff can see your information only for the purposes this policy "
            "declares and their role serves."
        ),
    ]
    return "How do we keep your information safe?", [
        Paragraph(inline("We protect your information with these measures:")),
        ItemList(items),
    ]


def _children(policy: Policy) -> tuple[str, list[Block]]:
    minors = policy.minors
    title = "Do we collect information from children?"
    if not (minors.minimum_age or minors.guardian_may_consent or minors.report_contact):
        return title, []
    age = minors.minimum_age
    blocks: list[Block] = []
    if age:
        text = (
            f"Our services are not meant for anyone under {age}. We do not knowingly collect information from "
            f"or market to children under {age}."
        )
        registering = [p for p in policy.collection_points if p.registers_subject]
        by_birth = [p.label for p in registering if p.age_check.value == "date_of_birth"]
        by_word = [p.label for p in registering if p.age_check.value == "attestation"]
        if by_birth:
            text += f" For {join_words(by_birth)} we ask for your date of birth and refuse anyone under {age}."
        if by_word:
            text += f" For {join_words(by_word)} we ask you to confirm that you are at least {age}."
        blocks.append(Paragraph(inline(text)))
    if minors.guardian_may_consent:
        blocks.append(
            Paragraph(
                inline("A parent or guardian may consent to a child's use of our services on the child's behalf.")
            )
        )
    child = f"a child under {age}" if age else "a child"
    consent = " without a parent's or guardian's consent" if minors.guardian_may_consent else ""
    blocks.append(
        Paragraph(
            inline(
                f"If we learn that we hold information about {child}{consent}, we deactivate the account and "
                "promptly delete the information."
            )
        )
    )
    if minors.report_contact:
        blocks.append(
            Paragraph(
                inline(
                    "If you believe we hold information about a child, tell us at ",
                    _contact_span(minors.report_contact),
                    ".",
                )
            )
        )
    return title, blocks


def _rights(policy: Policy) -> tuple[str, list[Block]]:
    rights = policy.rights
    contact = policy.organization.contact
    blocks: list[Block] = [
        Paragraph(inline("You can ask us to:")),
        ItemList([inline(strong(RIGHTS[r][0] + ":"), " " + RIGHTS[r][1]) for r in rights.offered]),
    ]
    if any(p.messages == MessageKind.marketing for p in policy.purposes):
        blocks.append(
            Paragraph(
                inline("You can unsubscribe from marketing e-mail at any time with the link in every marketing e-mail.")
            )
        )
    ways: list[str | Span] = []
    for i, channel in enumerate(rights.channels):
        if i:
            ways.append(" or " if i == len(rights.channels) - 1 else ", ")
        ways.append(REQUEST_CHANNELS[channel])
        if channel == RequestChannel.email and contact.email:
            ways += [" to ", email_span(contact.email)]
        elif channel == RequestChannel.phone and contact.phone:
            ways += [" on ", link(contact.phone, "tel:" + "".join(contact.phone.split()))]
    blocks.append(Paragraph(inline("You can make a request ", *ways, ".")))
    review = (
        "A person reviews each request and tells you the outcome, with the reason if we decline it."
        if rights.review == "case_by_case"
        else "Requests are carried out automatically."
    )
    blocks.append(
        Paragraph(
            inline(
                "Before we act on a request we check that it comes from you, with a code or link sent to you. "
                f"{review} We answer within {rights.response_deadline.describe()}."
            )
        )
    )
    return "What are your privacy rights?", blocks


def _changes(policy: Policy) -> tuple[str, list[Block]]:
    changes = policy.changes
    blocks: list[Block] = [
        Paragraph(
            inline(
                "We may update this policy. The date at the top shows when it last changed, and earlier versions "
                "stay available to read."
            )
        )
    ]
    if changes.material:
        blocks.append(Paragraph(inline("We treat these as material changes:")))
        blocks.append(ItemList([inline(_sentence(CHANGE_KINDS[k.value].capitalize())) for k in changes.material]))
        how = {"email": "by e-mail", "banner": "with a notice on our website"}
        if changes.notify:
            text = f"When we make a material change we tell you {join_words([how[n] for n in changes.notify])}"
            if changes.notice_period:
                text += f", {changes.notice_period.describe()} before it takes effect"
            text += "."
        else:
            text = "When we make a material change we publish the new version here."
        text += " We ask for your consent again before we use your information for a new purpose that needs it."
        blocks.append(Paragraph(inline(text)))
    return "Do we make updates to this policy?", blocks


def _contact(policy: Policy) -> tuple[str, list[Block]]:
    org = policy.organization
    contact = org.contact
    items: list[Inline] = []
    if contact.email:
        items.append(inline("E-mail: ", email_span(contact.email)))
    if contact.url:
        items.append(inline("Website: ", link(contact.url, web_href(contact.url))))
    if contact.phone:
        items.append(inline("Phone: ", link(contact.phone, "tel:" + "".join(contact.phone.split()))))
    if org.address:
        items.append(inline(f"Post: {org.address}"))
    who = org.name if not org.legal_name or org.legal_name == org.name else f"{org.name} ({org.legal_name})"
    return "How can you contact us about this policy?", [
        Paragraph(
            inline(
                f"If you have questions or complaints about this policy or about your information, contact {who}. "
                "We keep track of every message until it is answered."
            )
        ),
        ItemList(items),
    ]


def _jurisdiction(policy: Policy) -> tuple[str, list[Block]]:
    org = policy.organization
    blocks: list[Block] = []
    law = org.governing_law or (f"the laws of {org.jurisdiction}" if org.jurisdiction else None)
    if law:
        blocks.append(Paragraph(inline(f"This policy and any dispute about it are governed by {_sentence(law)}")))
    if org.jurisdiction and org.governing_law and org.jurisdiction not in org.governing_law:
        blocks.append(Paragraph(inline(f"Jurisdiction: {_sentence(org.jurisdiction)}")))
    if org.courts:
        blocks.append(Paragraph(inline(f"Any legal proceedings about it are brought in {_sentence(org.courts)}")))
    return "Which law governs this policy?", blocks
