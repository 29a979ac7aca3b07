"""The lexicon: general privacy-policy vocabulary mapped to declaration terms (fideslang keys, data uses, kinds).

Every table is a list of `(phrase pattern, meaning)` rows, searched in order; a matched span is masked, so an
earlier, more specific row wins over a later, general one ("payment gateway partner" is a processor before
"partner" can make it a business partner; "device name" is a device id before "name" can make it a name). Patterns
are case-insensitive regular expressions over plain text. Rows whose meaning is `None` only block a span ("domain
name", "search results").

Data categories map to fideslang keys; where fideslang has no key of its own the row names a custom key extending
one (`CUSTOM_CATEGORIES`: "password hints" → `user.authorization.credentials.password_hint`). Purposes map to a
purpose template (key, label, fideslang data use, legal basis). Recipients map to a recipient template (key, name,
kind). Nothing here names a particular company or quotes a particular policy: the rows are the words policies use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FLAGS = re.I


@dataclass(frozen=True)
class Term:
    """A category phrase: the fideslang (or custom) keys it means and a label for the declaration."""

    pattern: re.Pattern
    keys: tuple[str, ...]
    label: str


def _terms(rows) -> list[Term]:
    terms = []
    for pattern, keys, label in rows:
        keys = tuple(keys) if isinstance(keys, tuple) else ((keys,) if keys else ())
        terms.append(Term(re.compile(pattern, FLAGS), keys, label))
    return terms


# --- data categories -------------------------------------------------------------------------------------------

# Custom categories: key → (the fideslang key it extends, label). Used where fideslang is coarser than policies.
CUSTOM_CATEGORIES: dict[str, tuple[str, str]] = {
    "user.authorization.credentials.password_hint": ("user.authorization.credentials", "Password hints"),
    "user.authorization.credentials.security_question": ("user.authorization.credentials", "Security questions"),
    "user.financial.paypal": ("user.financial", "PayPal information"),
    "user.social.friends": ("user.social", "Friends or contacts list"),
}

CATEGORIES: list[Term] = _terms(
    [
        # spans that look like categories but are not (or are something else)
        (r"\bdomain (?:names?|servers?)\b", None, ""),
        (r"\bsearch (?:results|engines?)\b", None, ""),
        (r"\b(?:brand|product|file|screen|trade) names?\b|\bname of\b|\bin the name\b", None, ""),
        (r"\be-?mail (?:us|marketing|delivery|distribution|updates|list|service|communications? from us)\b", None, ""),
        (r"\b(?:by|via) e-?mail\b|\bemails? (?:we|that we) send\b", None, ""),
        (r"\bmarketing (?:leads|partners)\b", None, ""),
        (r"\bpublic (?:databases|authorities)\b", None, ""),
        # names
        (
            r"\bfirst and last names?\b|\bfirst name and (?:last name|surname)\b",
            ("user.name.first", "user.name.last"),
            "First and last name",
        ),
        (r"\b(?:first|given) names?\b", "user.name.first", "First name"),
        (r"\b(?:last|family) names?\b|\bsurnames?\b", "user.name.last", "Last name"),
        (r"\buser ?names?\b|\blogin names?\b|\bscreen names?\b", "user.account.username", "User name"),
        (
            r"\bdevice (?:ids?|identifiers?|names?)\b|\badvertising ids?\b|\bIMEI\b|\bMAC address",
            "user.device.device_id",
            "Device identifiers",
        ),
        (
            r"\b(?:company|employer|organi[sz]ation) (?:names?|affiliations?)\b|\bcompany affiliations?\b|"
            r"\bemployers?\b|"
            r"\bworkplace\b",
            "user.workplace",
            "Company affiliation",
        ),
        (r"\bnames?\b", "user.name", "Name"),
        # contact
        (
            r"\be-?mail (?:address(?:es)?|ids?|information)\b|\byour e-?mail(?: address(?:es)?)?\b|^e-?mail\b|"
            r"\bauthentic e-?mail\b",
            "user.contact.email",
            "E-mail address",
        ),
        (
            r"\b(?:(?:mobile|cell|hand)[- ]?)?(?:tele)?phone(?: numbers?)?\b|\bmobile numbers?\b|\bfax numbers?\b",
            "user.contact.phone_number",
            "Phone number",
        ),
        (
            r"\b(?:zip|postal|post) ?(?:/\s?postal )?codes?\b|\bpostcodes?\b",
            "user.contact.address.postal_code",
            "Postal code",
        ),
        (
            r"\b(?:postal|mailing|residential|home|delivery|shipping|billing|street|physical) address(?:es)?\b",
            "user.contact.address",
            "Postal address",
        ),
        (r"\bIP address(?:es)?\b|\bIP\b|\binternet protocol address", "user.device.ip_address", "IP address"),
        (r"\baddress(?:es)?\b(?! (?:of|the|to)\b)", "user.contact.address", "Address"),
        (r"\bcontact (?:details|information|info|data)\b", "user.contact", "Contact details"),
        # credentials
        (r"\bpassword hints?\b", "user.authorization.credentials.password_hint", "Password hints"),
        (r"\bsecurity questions?\b", "user.authorization.credentials.security_question", "Security questions"),
        (r"\bpasswords?\b", "user.authorization.password", "Password"),
        (
            r"\b(?:login|log-in|sign-in|account) (?:credentials|details)\b|\bsecurity (?:data|information)\b|"
            r"\bauthentication (?:data|information|credentials)\b",
            "user.authorization.credentials",
            "Login credentials",
        ),
        # financial and payment
        (
            r"\b(?:credit|debit|payment|bank) card(?: numbers?| details| information| data)?\b|\bcard numbers?\b|"
            r"\bcard details\b|\bsecurity codes?\b|\bCVV\b|\bpayment instrument(?: numbers?)?\b",
            "user.financial.credit_card",
            "Card details",
        ),
        (
            r"\baccount(?= (?:or|and) (?:credit |debit )?card numbers?)|\bbank(?:ing)? (?:account )?(?:details|"
            r"information|numbers?|accounts?)\b|\bIBAN\b|\baccount numbers?\b",
            "user.financial.bank_account",
            "Bank account details",
        ),
        (r"\bpaypal(?: information| account(?: details)?)?\b", "user.financial.paypal", "PayPal information"),
        (r"\bfinancial (?:information|data|details|records)\b", "user.financial", "Financial information"),
        (
            r"\bpayment (?:information|data|details)\b|\btransaction(?:al)? (?:codes?|ids?|references?)\b",
            "user.payment",
            "Payment information",
        ),
        # behaviour
        (
            r"\btransaction (?:data|history|details)\b|\b(?:purchase|order|shopping|buying) (?:history|records|details|"
            r"patterns)\b|\bpreceding orders\b|\bprevious orders\b|\bnumber of times you have shopped\b|"
            r"\bwish ?lists?\b|"
            r"\bpurchase date\b|\bpast purchases\b",
            "user.behavior.purchase_history",
            "Purchase history",
        ),
        (r"\bsearch(?:es| terms| history| queries)?\b", "user.behavior.search_history", "Searches on our site"),
        (
            r"\bpages? (?:that )?(?:you )?(?:visit(?:ed)?|view(?:ed)?|access(?:ed)?|used|being used)\b|"
            r"\bwhich pages\b|\blinks you click\b|\bbrowsing (?:history|behaviou?r|activity)\b|\bclickstream\b|"
            r"\b(?:user )?navigation\b|\breferr(?:ing|al|er) (?:urls?|pages?|sites?|websites?)\b|\b(?:sources? of|"
            r"referral) traffic\b|\btraffic (?:flow )?(?:sources|information|data)\b|\brecently viewed\b|"
            r"\bnumber of times you access\b|\busage (?:information|data|patterns)\b|\bhow (?:and when )?you "
            r"(?:use|interact with|navigate)\b|\blog data\b|\busage logs\b",
            "user.behavior.browsing_history",
            "Pages visited and links clicked",
        ),
        # device and location
        (
            r"\bcookie (?:ids?|identifiers?)\b|\bcomputer[- ]identification information\b|\bidentif\w+ information "
            r"obtained from\W+cookies\b",
            "user.device.cookie_id",
            "Cookie identifier",
        ),
        (r"\b(?:precise|exact|gps|geo-?)\s?location\b", "user.location.precise", "Precise location"),
        (
            r"\b(?:approximate|general|imprecise|coarse)\s+location\b|\b(?:user )?location\b",
            "user.location.imprecise",
            "Approximate location",
        ),
        # demographic, work, identity
        (r"\bdates? of birth\b|\bbirth ?dates?\b|\bbirthdays?\b", "user.demographic.date_of_birth", "Date of birth"),
        (r"\bgender\b", "user.demographic.gender", "Gender"),
        (r"\bjob titles?\b|\boccupations?\b|\bprofession\b", "user.job_title", "Job title"),
        (r"\bpassport (?:numbers?|details)\b", "user.government_id.passport_number", "Passport number"),
        (
            r"\bdriver'?s licen[cs]e(?: numbers?)?\b",
            "user.government_id.drivers_license_number",
            "Driver's licence number",
        ),
        (
            r"\b(?:social security|national (?:id|identification|insurance)) numbers?\b",
            "user.government_id.national_identification_number",
            "National identification number",
        ),
        (
            r"\bhealth (?:information|data)\b|\bmedical (?:information|records|data)\b",
            "user.health_and_medical",
            "Health information",
        ),
        (r"\bbiometric\w*\b|\bfingerprints?\b", "user.biometric", "Biometric data"),
        # content and social
        (
            r"\bprofile (?:pictures?|photos?|images?)\b|\bphotos?\b|\bphotographs?\b|\bselfies?\b",
            "user.content.self_image",
            "Profile picture",
        ),
        (r"\bfriends? lists?\b|\bcontacts? lists?\b", "user.social.friends", "Friends list"),
        (r"\b(?:social media )?profile information\b", "user.demographic.profile", "Profile information"),
        (
            r"\bforum posts?\b|\bpost(?:ing|s)? (?:messages|comments)\b|\bpublic (?:posts|comments|profile)\b|"
            r"\breviews\b|\btestimonials?\b|\buser[- ]generated content\b|\bblogs?\b",
            "user.content.public",
            "Posts in public areas",
        ),
        (
            r"\bopinions?\b|\bfeedback\b|\bsurvey (?:responses|answers)\b|\binquir(?:y|ies)\b|\benquir(?:y|ies)\b|"
            r"\bcomplaints?\b|\bdisputes?\b(?= or complaints)|\bmessages you send\b|\bcorrespondence\b|"
            r"\bemail communication\b|\bbusiness data\b",
            "user.content.private",
            "Messages and feedback you send us",
        ),
    ]
)


def label_of(key: str) -> str:
    """The lexicon's label for a category key: its first single-key row, or the key's last part."""
    if key in CUSTOM_CATEGORIES:
        return CUSTOM_CATEGORIES[key][1]
    for term in CATEGORIES:
        if term.keys == (key,):
            return term.label
    return key.rsplit(".", 1)[-1].replace("_", " ").capitalize()


# Categories read from a usage-data or device context only (collected automatically, not typed in by a person).
USAGE_ROOTS = ("user.behavior", "user.device", "user.location")
FINANCIAL_ROOTS = ("user.financial", "user.payment")

# --- usage signals (UsageSignal values) ------------------------------------------------------------------------

USAGE_SIGNALS: list[tuple[re.Pattern, str]] = [
    (re.compile(p, FLAGS), signal)
    for p, signal in (
        (
            r"\bpages?\b[^.;]{0,20}\b(?:visit|view|access|used|being used|you find)|\bwhich pages\b|\bnavigation\b",
            "pages",
        ),
        (r"\blinks you click\b|\bclicking particular\b", "links"),
        (r"\bnumber of times you access\b|\bnumber of (?:users|visits)\b|\bhow (?:often|many times)\b", "visit_counts"),
        (r"\bnumber of times you have shopped\b|\bbuying patterns\b", "purchase_counts"),
        (r"\breferr(?:ing|al|er)\b|\bsources? of traffic\b|\btraffic sources\b", "referrer"),
        (r"\bbrowsers?\b(?! setting)", "browser"),
        (r"\boperating systems?\b", "os"),
        (r"\btype of computer\b|\bdevice (?:characteristics|type)\b|\btype of device\b", "device_class"),
        (r"\blanguage\b", "language"),
        (r"\bsearch(?:es| terms| history| queries| within)?\b(?! results| engine)", "search_terms"),
        (r"\btime spent\b|\bhow long you\b|\btime on (?:the )?site\b|\bdate and time\b", "time_on_site"),
        (r"\bcountry\b|\blocation\b", "country"),
    )
]

# --- purposes --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PurposeTemplate:
    key: str
    label: str
    data_use: str
    legal_basis: str
    messages: str = "none"
    # Categories it draws on when its statement names none: root keys, matched against declared categories.
    uses: tuple[str, ...] = ()


_PROVIDED = (
    "user.name",
    "user.contact",
    "user.account",
    "user.authorization",
    "user.demographic",
    "user.job_title",
    "user.workplace",
    "user.government_id",
    "user.content",
    "user.social",
)
_CONTACT = ("user.name", "user.contact.email", "user.contact.phone_number")
_USAGE = ("user.behavior.browsing_history", "user.behavior.search_history", "user.device", "user.location")

PURPOSES: dict[str, PurposeTemplate] = {
    t.key: t
    for t in (
        PurposeTemplate("account", "Running your account", "essential.service", "contract", uses=_PROVIDED),
        PurposeTemplate(
            "services", "Providing the services you request", "essential.service", "contract", uses=_PROVIDED
        ),
        PurposeTemplate(
            "orders",
            "Processing and delivering orders",
            "essential.service",
            "contract",
            uses=("user.name", "user.contact", "user.behavior.purchase_history"),
        ),
        PurposeTemplate(
            "transactions",
            "Completing transactions and payments",
            "essential.service.payment_processing",
            "contract",
            uses=("user.name", "user.contact", "user.financial", "user.payment", "user.behavior.purchase_history"),
        ),
        PurposeTemplate(
            "support",
            "Customer support",
            "essential.service.operations.support",
            "legitimate_interest",
            uses=("user.name", "user.contact", "user.content.private"),
        ),
        PurposeTemplate(
            "service_messages",
            "Messages about our service",
            "essential.service.notifications.email",
            "contract",
            messages="service",
            uses=_CONTACT,
        ),
        PurposeTemplate(
            "updates",
            "Updates about our products",
            "essential.service.upgrades",
            "contract",
            messages="service",
            uses=_CONTACT,
        ),
        PurposeTemplate(
            "security",
            "Keeping our services secure",
            "essential.service.security",
            "legitimate_interest",
            uses=("user.device", "user.behavior.browsing_history"),
        ),
        PurposeTemplate(
            "fraud_prevention",
            "Preventing fraud and protecting rights",
            "essential.fraud_detection",
            "legitimate_interest",
            uses=("user.name", "user.contact", "user.device.ip_address"),
        ),
        PurposeTemplate(
            "legal_compliance",
            "Complying with the law",
            "essential.legal_obligation",
            "legal_obligation",
            uses=("user.name", "user.contact", "user.behavior.purchase_history", "user.content"),
        ),
        PurposeTemplate(
            "marketing",
            "Marketing communications",
            "marketing.communications.email",
            "consent",
            messages="marketing",
            uses=_CONTACT,
        ),
        PurposeTemplate(
            "partner_offers",
            "Business partners' offers",
            "marketing.communications.email",
            "consent",
            uses=("user.name", "user.contact.email"),
        ),
        PurposeTemplate(
            "advertising",
            "Advertising",
            "marketing.advertising.third_party",
            "consent",
            uses=("user.behavior.browsing_history", "user.device.cookie_id", "user.device.device_id"),
        ),
        PurposeTemplate(
            "ad_reports",
            "Aggregate reports for advertisers",
            "analytics.reporting.ad_performance",
            "legitimate_interest",
            uses=("user.behavior",),
        ),
        PurposeTemplate(
            "personalisation", "Personalised features", "personalize.content", "consent", uses=("user.behavior",)
        ),
        PurposeTemplate(
            "analytics", "Analytics and statistics", "analytics.reporting", "legitimate_interest", uses=_USAGE
        ),
        PurposeTemplate(
            "campaign_insights",
            "Planning marketing campaigns",
            "analytics.reporting.campaign_insights",
            "legitimate_interest",
            uses=("user.behavior",),
        ),
        PurposeTemplate(
            "improvement",
            "Improving our products and services",
            "functional.service.improve",
            "legitimate_interest",
            uses=("user.content.private", "user.behavior.browsing_history"),
        ),
    )
}

# Purposes whose data use needs the person's agreement unless the text says otherwise (USE-3).
CONSENT_USES = ("marketing.", "personalize.")

PURPOSE_CUES: list[tuple[re.Pattern, str | None]] = [
    (re.compile(p, FLAGS), key)
    for p, key in (
        (r"\bmarketing (?:partners|leads)\b|\bfor their (?:own )?promotional purposes\b", None),
        (
            r"\bmarketing (?:initiatives|campaigns?)\b|\bcampaigns? (?:are|is) planned\b|\bbuying patterns\b|"
            r"\b(?:customer|client) behaviou?r\b|\bcustomer data ?base\b",
            "campaign_insights",
        ),
        (
            r"\b(?:process\w*|deliver\w*|fulfil+\w*|ship\w*)\s+(?:and \w+ )?(?:your |the )?(?:orders|parcels|"
            r"purchases)\b|\bbuying process\b|\bservice delivery\b|\bafter[- ]sales? services?\b",
            "orders",
        ),
        (
            r"\bbilling\b|\bcomplete (?:a|the|your) transactions?\b|\bprocess\w*\s+(?:your\s+)?(?:payments?|"
            r"transactions)\b|\btake payment\b|\bcollect fees\b|\bpayment processing\b|\bpayment is processed\b",
            "transactions",
        ),
        (
            r"\bcustomer (?:support|service|care)\b|\btechnical support\b|\brespond to (?:your )?(?:questions|"
            r"inquiries|enquiries|requests|comments)\b|\btroubleshoot\w*\b|\bproduct enquir\w+\b",
            "support",
        ),
        (r"\bsoftware updates\b|\b(?:product|service|software) updates\b", "updates"),
        (
            r"\b(?:get|keep|be) in touch with you\b|\bcommunicat\w+ with (?:you|them|users|the users)\b|"
            r"\bnotif(?:y|ications?)\b|\bimportant notices\b|\bservice[- ]related (?:e-?mails|messages)\b|"
            r"\bdownload link\b|\border confirmations?\b|\bdelivery updates\b|\bforward you\b|\bsending "
            r"communications\b",
            "service_messages",
        ),
        (
            r"\bpromotion(?:al|s)?\b|\bmarketing (?:e-?mails?|communications?|messages|materials|e-?mail list|"
            r"efforts)\b|"
            r"\bnewsletters?\b|\bmailers\b|\bdiscounts\b|\bspecial offers\b|\bnew product launch\w*\b|\bmarketing\b",
            "marketing",
        ),
        (r"\badvertisers?\b[^.]{0,60}\baggregate\w*\b|\baggregate\w*\b[^.]{0,60}\badvertisers?\b", "ad_reports"),
        (
            r"\badvertis(?:ing|ements?)\b|\bserve ads\b|\b(?:targeted|interest-based) ads\b|\btracking technolog\w+\b|"
            r"\btrack your visits\b|\badvertisers? may collect\b",
            "advertising",
        ),
        (
            r"\bpersonali[sz]\w*\b|\btailor\w*\b[^.]{0,40}\bto your\b|\bcustomi[sz]ed (?:customer )?(?:services?|"
            r"experiences?|content|features)\b|\brelevant experiences\b|\brecently viewed\b|\bwish ?lists?\b|"
            r"\brecommendations\b",
            "personalisation",
        ),
        (r"\bimprov\w+ (?:the |our )?(?:web)?sites?\b|\bimprove our website\b", "analytics"),
        (
            r"\bimprov\w+ (?:the |our )?(?:products?|services?|functionality|usability|features|user experiences?)\b|"
            r"\bproduct improvement\b|\bdevelop\w* new (?:features|products|services)\b|\bsurvey respondents?\b|"
            r"\bconduct\w* surveys\b",
            "improvement",
        ),
        (
            r"\banaly[sz]\w*\b|\bstatistic\w*\b|\bresearch\b|\btrends\b|\bmonitor\w* (?:the )?(?:performance|"
            r"which pages|"
            r"usage)\b|\bsite performance\b|\bperformance of our services\b|\binternal analytics\b|"
            r"\breporting purposes\b|"
            r"\bunderstand\w* (?:how|the merits)\b|\bmerits\b|\bnumber of users\b|\buser engagement\b|"
            r"\bdetermine the popularity\b|\bbetter understand\b|\bidentify which pages\b",
            "analytics",
        ),
        (
            r"\bfraud\w*\b|\bunlawful\b|\billegal activit\w+\b|\bprotect our (?:rights|property|safety)\b|"
            r"\bprevent\w* abuse\b|\bcriminal\b|\bviolations? of (?:our|the)\b|\benforce (?:our )?terms\b|"
            r"\bsafety of any person\b|\bthreats? to the safety\b|\bprevention, detection\b|\boffences\b|"
            r"\bsuspected\b",
            "fraud_prevention",
        ),
        (
            r"\bcomply(?:ing)? with\b|\bcompliance (?:with|of)\b|\brequired by law\b|\blegal(?:ly)? (?:process\w*|"
            r"requirements?|obligations?|proceedings?|claims?|disputes?|required)\b|\bsubpoenas?\b|\bcourt orders?\b|"
            r"\bstatutory\b|\bregulatory requirements?\b|\bgoverned by (?:existing )?law\b|\bthe law requires\b|"
            r"\btax law\b|\blaw enforcement\b|\blegal authorities\b",
            "legal_compliance",
        ),
        (
            r"\bkeep (?:our |the )?(?:website|site|services?) secure\b|\bsecurity and operation\b|"
            r"\bmaintain the security"
            r"\b",
            "security",
        ),
        (
            r"\bmanag\w* (?:your |user |customer )?accounts?\b|\bregistration process\b|"
            r"\badministration and use of your "
            r"account\b|\bidentity verification\b|\bproof of eligibility\b|\bopen (?:a|an) (?:customer )?account\b|"
            r"\bcreate (?:an|your) account\b",
            "account",
        ),
        (
            r"\bprovid\w* (?:the |our |you (?:with )?(?:the )?)?(?:products? (?:and|or) )?services?\b|\bservices? "
            r"(?:you(?:'ve|’ve| have)? )?requested\b|\bdeliver\w* (?:our |the |requested )?(?:products|services)\b|"
            r"\bproducts and services provision\b|\bfacilitat\w+ the services\b|\bservice records\b|"
            r"\bproducts or services you\b",
            "services",
        ),
    )
]

# --- recipients -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecipientTemplate:
    key: str
    name: str
    kind: str
    # The purposes it serves, by template key, when its statement names none (first found wins, in order).
    serves: tuple[str, ...]


RECIPIENTS: dict[str, RecipientTemplate] = {
    t.key: t
    for t in (
        RecipientTemplate("payment_processor", "Payment processor", "processor", ("transactions",)),
        RecipientTemplate(
            "email_delivery", "E-mail delivery service", "processor", ("service_messages", "updates", "marketing")
        ),
        RecipientTemplate("hosting", "Hosting provider", "processor", ("services", "account", "orders")),
        RecipientTemplate("analytics_provider", "Analytics provider", "processor", ("analytics",)),
        RecipientTemplate("couriers", "Delivery companies", "processor", ("orders", "services")),
        RecipientTemplate(
            "service_providers", "Service providers", "processor", ("services", "account", "orders", "support")
        ),
        RecipientTemplate("affiliates", "Affiliates", "affiliate", ("services", "account", "orders")),
        RecipientTemplate("business_partners", "Business partners", "partner", ("services", "account", "orders")),
        RecipientTemplate("advertisers", "Advertisers", "advertiser", ("advertising", "ad_reports")),
        RecipientTemplate(
            "authorities",
            "Courts, authorities and law enforcement",
            "authority",
            ("legal_compliance", "fraud_prevention"),
        ),
        RecipientTemplate(
            "acquirer", "A buyer or successor of the business", "acquirer", ("services", "account", "orders")
        ),
    )
}

RECIPIENT_CUES: list[tuple[re.Pattern, str | None]] = [
    (re.compile(p, FLAGS), key)
    for p, key in (
        (r"\b(?:joint )?marketing partners\b|\bthird[- ]party websites?\b|\bother users\b", None),
        (
            r"\bpayment (?:processors?|providers?|gateways?(?: partners?)?|service providers?)\b|\bcredit[- ]card "
            r"(?:payment )?processors?\b|\bpayment processing\b|\bthird-party secure server\b|\bfor payments\b",
            "payment_processor",
        ),
        (r"\be-?mail (?:distribution|delivery) (?:service )?(?:providers?)?\b|\bemail delivery\b", "email_delivery"),
        (r"\bhosting (?:services?|providers?|companies)\b|\bfor hosting\b", "hosting"),
        (r"\bdata analysis\b|\banalytics (?:providers?|services?|companies)\b", "analytics_provider"),
        (
            r"\bcouriers?\b|\bcourier companies\b|\bdelivery (?:companies|services|firms)\b|\bshipping (?:companies|"
            r"carriers)\b",
            "couriers",
        ),
        (
            r"\bservice providers?\b|\bvendors?\b|\bcontractors\b|\bsub-?processors?\b|\bprocessors\b|\bconsultants\b|"
            r"\bagents\b|\bsuppliers\b",
            "service_providers",
        ),
        (r"\baffiliat\w+\b|\bsubsidiar\w+\b|\bparent company\b|\bgroup companies\b|\bsister companies\b", "affiliates"),
        (r"\badvertisers?\b|\badvertising (?:companies|partners|networks)\b|\bad networks?\b", "advertisers"),
        (r"\bbusiness partners?\b|\bpartners?\b|\bsponsors?\b", "business_partners"),
        (
            r"\blaw enforcement\b|\bgovernment\w*\b|\bregulat\w+ (?:agencies|authorities|bodies)\b|\bauthorities\b|"
            r"\bpolice\b|\bcourts?\b|\bsubpoenas?\b|\bcourt orders?\b|\blegal process\w*\b|\brequired by law\b|"
            r"\bthe law requires\b|\bcompl(?:y|iance) with (?:valid |applicable )?(?:legal|laws?)\b|"
            r"\blegally required\b",
            "authorities",
        ),
        (
            r"\bmergers?\b|\bacquisitions?\b|\bacquir\w+\b|\bsale of (?:company |our |the )?(?:assets|business)\b|"
            r"\bbusiness transfers?\b|\bsuccessors?\b|\bbankruptcy\b|\bthe buyer\b|\bis sold\b",
            "acquirer",
        ),
    )
]

# A recipient that uses what it gets for its own offers (SHR-5/6).
OWN_PROMOTIONS = re.compile(
    r"\btheir (?:own )?(?:business )?offers\b|\boffer you\b|\bsending their\b|\bfor their own (?:marketing|"
    r"promotional) purposes\b|\btheir own (?:products|marketing)\b",
    FLAGS,
)
AGGREGATE = re.compile(r"\baggregat\w*\b|\banonymi[sz]ed\b|\bde-?identified\b|\bstatistical form\b", FLAGS)

# --- collection points ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PointTemplate:
    key: str
    label: str
    channel: str
    registers_subject: bool = False


POINTS: dict[str, PointTemplate] = {
    t.key: t
    for t in (
        PointTemplate("registration", "Registration", "form", registers_subject=True),
        PointTemplate("purchase", "Purchase", "form"),
        PointTemplate("survey", "Survey", "form"),
        PointTemplate("contest_entry", "Contest entry", "form"),
        PointTemplate("download", "Download", "form"),
        PointTemplate("inquiry", "Inquiry", "form"),
        PointTemplate("forum_post", "Forum post", "form"),
        PointTemplate("email_to_us", "E-mail to us", "email"),
        PointTemplate("social_login", "Sign-in with a social network", "social_login", registers_subject=True),
        PointTemplate("other_sources", "Data from other sources", "import"),
        PointTemplate("client_data", "Data provided by clients", "client_upload"),
    )
}

POINT_CUES: list[tuple[re.Pattern, str]] = [
    (re.compile(p, FLAGS), key)
    for p, key in (
        (
            r"\bsocial media (?:account|login|channels)\b|\bsocial logins?\b|\bsign[- ]?in information\b|\blog ?in "
            r"(?:using|with) (?:your )?(?:facebook|google|twitter)\b|\bregister using social\b|\bthird party sign in\b",
            "social_login",
        ),
        (
            r"\bregist(?:er|ering|ration)\b|\bsign(?:ing)?[- ]up\b|\bcreate (?:an|your) account\b|\bopen (?:a|an) "
            r"(?:customer )?account\b|\bmembership\b|\bsubscrib\w+ to our website\b",
            "registration",
        ),
        (
            r"\b(?:make|place|placing|makes) (?:a |an )?(?:purchase|order)s?\b|\bcheckout\b|\bduring a purchase\b|"
            r"\bif you make purchases\b",
            "purchase",
        ),
        (r"\bsurveys?\b", "survey"),
        (r"\bcontests?\b|\bcompetitions?\b|\bgiveaways?\b|\bsweepstakes\b", "contest_entry"),
        (r"\bdownload\w*\b", "download"),
        (r"\binquir(?:y|ies)\b|\benquir(?:y|ies)\b|\bexpressing an interest\b|\bcontacting us\b", "inquiry"),
        (r"\bforums?\b|\bposting messages\b", "forum_post"),
        (r"\bemail communication\b|\be-?mails? (?:you send|to us)\b|\bdirectly with our company\b", "email_to_us"),
        (
            r"\bfrom other sources\b|\bpublic databases\b|\bthird[- ]party sources\b|\bmarketing partners\b",
            "other_sources",
        ),
        (r"\bdata provided by our clients\b|\bclient data\b|\bprovided by (?:our )?clients\b", "client_data"),
    )
]

SOCIAL_PROVIDERS = ("facebook", "twitter", "google", "linkedin", "apple", "instagram", "github", "microsoft")
SOURCES = re.compile(r"\b(public databases|(?:joint )?marketing partners|data brokers|third[- ]party sources)\b", FLAGS)

# --- cookie categories ------------------------------------------------------------------------------------------

# key → (label, essential, advertising, purpose template keys it serves)
COOKIE_CATEGORIES: dict[str, tuple[str, bool, bool, tuple[str, ...]]] = {
    "essential": ("Essential", True, False, ("account", "services", "orders")),
    "analytics": ("Analytics", False, False, ("analytics",)),
    "personalisation": ("Personalisation", False, False, ("personalisation",)),
    "advertising": ("Advertising", False, True, ("advertising",)),
}
COOKIE_CUES: list[tuple[re.Pattern, str]] = [
    (re.compile(p, FLAGS), key)
    for p, key in (
        (
            r"\bessential cookies\b|\bstrictly necessary\b|\blogging in\b|\byour login\b|\bbasket\b|\bsession "
            r"cookies?\b|\bclicking particular buttons\b",
            "essential",
        ),
        (
            r"\banaly\w+\b|\btraffic logs?\b|\bweb traffic\b|\bstatistic\w*\b|\bwhich pages\b|\bperformance cookies\b|"
            r"\babout your usage\b|"
            r"\bcount\w* visits\b",
            "analytics",
        ),
        (
            r"\bpersonali[sz]\w*\b|\brecently viewed\b|\bwish ?lists?\b|\bremember\w* (?:your )?(?:choices|preferences|"
            r"settings)\b",
            "personalisation",
        ),
        (
            r"\badvertis\w+\b|\bthird[- ]party cookies\b|\bthird parties to use tracking\b|\btrack your visits\b|"
            r"\bserve ads\b|\btheir own assigned cookies\b",
            "advertising",
        ),
    )
]

# --- rights -----------------------------------------------------------------------------------------------------

RIGHT_CUES: list[tuple[re.Pattern, str]] = [
    (re.compile(p, FLAGS), right)
    for p, right in (
        (r"\baccess\b|\bobtain a copy\b|\breview\b", "access"),
        (
            r"\bcorrect\w*\b|\brectif\w+\b|\bupdate (?:your|their)\b|\bchange (?:the |your )?(?:information|data)\b|"
            r"\bedit\b",
            "rectify",
        ),
        (r"\bdelet\w+\b|\beras\w+\b|\bterminat\w+ (?:your|their) accounts?\b|\bremoval of your\b", "erase"),
        (r"\bdeactivat\w+\b", "deactivate"),
        (r"\brestrict\w*\b", "restrict"),
        (r"\bobject\w*\b|\bopt[- ]?out\b|\bunsubscrib\w+\b", "object"),
        (r"\bportab\w+\b|\bportable\b|\bport (?:your|their) (?:personal )?data\b", "portability"),
    )
]

# --- durations --------------------------------------------------------------------------------------------------

NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "eighteen": 18, "twenty": 20, "thirty": 30,
    "sixty": 60, "ninety": 90, "twenty-four": 24,
}  # fmt: skip
DURATION = re.compile(
    r"\b(\d{1,4}|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")[\s-]+(?:\(\d+\)\s+)?"
    r"(hours?|days?|weeks?|months?|years?)\b",
    FLAGS,
)
UNIT = {"hour": "PT{}H", "day": "P{}D", "week": "P{}W", "month": "P{}M", "year": "P{}Y"}
# "as long as necessary" and the like: a retention the text leaves to judgement.
VAGUE_RETENTION = re.compile(
    r"\bas long as (?:it is |is |we )?(?:necessary|needed|required|reasonably necessary|needed)\b|\bno longer than "
    r"(?:is )?necessary\b|\bas otherwise agreed\b|\bfor a reasonable (?:time|period)\b",
    FLAGS,
)
CAP = re.compile(
    r"\b(?:no|not|never|nothing)\b[^.]{0,80}\blonger than\b|\b(?:at most|a maximum of|no more than|up to)\s+$", FLAGS
)


def iso_duration(amount: str, unit: str) -> str:
    """(`a`, `month`) → `P1M`; (`30`, `days`) → `P30D`."""
    number = int(amount) if amount.isdigit() else NUMBER_WORDS[amount.lower()]
    return UNIT[unit.lower().rstrip("s")].format(number)


# --- countries (for regions and jurisdiction) -------------------------------------------------------------------

COUNTRIES = {
    "india": "IN", "united states": "US", "usa": "US", "united kingdom": "GB", "england": "GB", "wales": "GB",
    "scotland": "GB", "germany": "DE", "france": "FR", "ireland": "IE", "netherlands": "NL", "spain": "ES",
    "italy": "IT", "canada": "CA", "australia": "AU", "singapore": "SG", "japan": "JP", "brazil": "BR",
    "european union": "EU", "switzerland": "CH", "sweden": "SE", "new zealand": "NZ", "south africa": "ZA",
}  # fmt: skip
