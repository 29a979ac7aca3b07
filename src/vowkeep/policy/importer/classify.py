"""Classifying statements into the practice classes of privacy policies (OPP-115 style), by rules a person can read.

Each class has weighted cue phrases. A statement scores, for each class, the weights of the cues found in its own
text, plus half the weights of cues in the lead-in of its list, plus a fixed bonus when its section heading names
the class ("How long do we keep your information?" → data_retention). The class with the highest score wins when
it reaches `THRESHOLD`; otherwise the statement is `other`.

Confidence is the winner's share of the evidence: `best / (best + runner_up + 1)`, so a statement with one strong
cue and nothing else scores about 0.7, and one that mixes two classes about 0.5. `other` gets 0.6 when no cue
matched at all, falling to 0.4 as the best class nears the threshold.
"""

from __future__ import annotations

import re

from vowkeep.policy.importer.statements import Statement

FIRST_PARTY = "first_party_collection_use"
SHARING = "third_party_sharing"
CHOICE = "user_choice_control"
ACCESS = "user_access_edit_deletion"
RETENTION = "data_retention"
SECURITY = "data_security"
CHANGE = "policy_change"
DNT = "do_not_track"
AUDIENCES = "international_specific_audiences"
OTHER = "other"

CLASSES = (FIRST_PARTY, SHARING, CHOICE, ACCESS, RETENTION, SECURITY, CHANGE, DNT, AUDIENCES, OTHER)

THRESHOLD = 1.5
LEAD_WEIGHT = 0.5
HEADING_BONUS = 1.5


def _cues(*pairs: tuple[str, float]) -> list[tuple[re.Pattern, float]]:
    return [(re.compile(pattern, re.I), weight) for pattern, weight in pairs]


# Cue phrases of each class, with weights: 3 decides alone, 1.5–2 is a clear sign, below 1 only tips a balance.
CUES: dict[str, list[tuple[re.Pattern, float]]] = {
    FIRST_PARTY: _cues(
        (
            r"\b(?:we|i)\b(?:\s+\w+){0,3}\s+(?:collect|receive|gather|obtain|record|ask for|use|process|keep track)\w*",
            2,
        ),
        (
            r"\b(?:is|are|be|been|being)\s+(?:also\s+|automatically\s+)?(?:collected|gathered|used|obtained|recorded)\b",
            2,
        ),
        (r"\b(?:information|data)\s+(?:that\s+)?(?:we|you)\s+(?:collect|provide|give|receive)", 1.5),
        (r"\b(?:collects?|collected|collecting|collection)\b", 1),
        (r"\b(?:personal(?:ly)?|identif\w+|customer|usage|log|traffic|tracking)\s+(?:information|data|details)\b", 0.8),
        (r"\bcookies?\b|\bweb beacons?\b|\bpixels?\b|\btracking technolog", 0.8),
        (r"\b(?:purposes?|in order to|so that we can)\b", 0.5),
        (r"\b(?:to provide|personali[sz]\w*|analy[sz]\w*|statistic\w*|improve)\b", 0.6),
    ),
    SHARING: _cues(
        (r"\b(?:share|shares|shared|sharing|disclose[sd]?|disclosure|sell|sold|rent|trade|transfer(?:red|s)?)\b", 2),
        (r"\bthird[- ]part(?:y|ies)\b", 1),
        (
            r"\b(?:affiliat\w+|partners?|service providers?|vendors?|advertisers?|subsidiar\w+|processors?|"
            r"contractors|agents)\b",
            1,
        ),
        (r"\b(?:law enforcement|subpoenas?|court orders?|authorities|mergers?|acquisitions?|successor)\b", 1),
        (r"\bhave access to\b|\bmay be (?:viewed|publicly)", 1),
    ),
    CHOICE: _cues(
        (r"\bopt(?:ing)?[- ]?(?:out|in)\b", 2.5),
        (r"\bunsubscrib\w+", 2.5),
        (
            r"\b(?:accept|decline|refuse|disable|block)\w*\b[^.]{0,40}\bcookies\b|\bcookies?\b[^.]{0,40}\b(?:accept|decline)",
            2,
        ),
        (r"\byou (?:can|may) (?:choose|decide|elect)\b|\bchoices?\b", 1),
        (r"\bconsent\w*\b|\bagree\b|\bpermission\b|\bprior approval\b", 1),
        (r"\bbrowser settings?\b|\bpreferences\b", 0.8),
    ),
    ACCESS: _cues(
        (r"\bright to (?:access|correct|rectif|delete|eras|request|obtain|review|port)", 3),
        (
            r"\b(?:review|access|correct|update|change|edit|delete|erase|remove|terminate|deactivate|close)\b[^.]{0,40}"
            r"\b(?:your|their)\s+(?:personal\s+)?(?:information|data|details|accounts?|profile)\b",
            2.5,
        ),
        (r"\b(?:terminate|deactivate|delete|close)\b[^.]{0,20}\baccounts?\b", 1.5),
        (r"\bremoval of your\b|\bcopy of (?:your|the) (?:personal )?(?:information|data)\b|\bportab\w+", 2),
        (r"\brequests?\b", 0.5),
    ),
    RETENTION: _cues(
        (r"\bretain\w*\b|\bretention\b", 2.5),
        (r"\b(?:keep|kept|store|stored|hold)\b[^.]{0,40}\b(?:for|until|longer)\b", 1.5),
        (r"\bas long as (?:it is |is )?(?:necessary|needed|required|reasonably)", 2),
        (r"\b(?:archiv\w+|backups?)\b", 1.5),
        (r"\b(?:removed|deleted|erased)\s+(?:from|after)\b|\bdelete\w*\b[^.]{0,40}\bafter\b", 1.5),
        (r"\bhow long\b|\blonger than\b|\bperiod\b", 1),
        (r"\b\d+\s+(?:days?|weeks?|months?|years?)\b", 0.5),
    ),
    SECURITY: _cues(
        (r"\bsecur(?:e|ity|ed|ely)\b", 1.5),
        (r"\bsafeguard\w*|\bprotect(?:s|ed|ion)?\b", 1),
        (r"\bencrypt\w*|\bfirewalls?\b|\bSSL\b|\bTLS\b|\bPCI\b|\bsecurity audits?\b", 2.5),
        (r"\bauthori[sz]ed personnel\b|\bunauthori[sz]ed\b|\bneed[- ]to[- ]know\b", 2),
        (r"\bconfidential\w*|\bintegrity\b|\b100% secure\b|\bguarantee\b|\bpasswords?\b|\bleakage\b|\btheft\b", 1),
    ),
    CHANGE: _cues(
        (
            r"\b(?:change|changes|update|updates|revise|modify|alter|amend)\w*\b[^.]{0,50}\b(?:this|the|our)\s+"
            r"(?:privacy\s+)?(?:policy|statement|notice)\b",
            3,
        ),
        (r"\b(?:updated|revised)\s+(?:version|date|policy)\b|\bmaterial changes?\b|\bsubject to change\b", 2.5),
        (r"\b(?:review|check)\b[^.]{0,40}\b(?:policy|notice)\b[^.]{0,30}\b(?:periodically|frequently|regularly)", 2),
        (r"\beffective\b[^.]{0,30}\b(?:posting|immediately|accessible)\b", 2),
    ),
    DNT: _cues(
        (r"\bdo[- ]not[- ]track\b|\bDNT\b", 4),
        (r"\bglobal privacy control\b|\bGPC\b", 3),
    ),
    AUDIENCES: _cues(
        (r"\bchild(?:ren)?\b|\bminors?\b|\bkids?\b|\bCOPPA\b", 2.5),
        (r"\b(?:under|below|younger than|less than)\s+(?:the\s+age\s+of\s+)?\d{1,2}\b|\bage\b", 1.5),
        (r"\bparent\w*\b|\bguardian\b", 1),
        (r"\b(?:European|EEA|GDPR|California|CCPA|residents? of)\b", 2),
        (
            r"\btransferr?\w*\b[^.]{0,40}\b(?:internationally|outside|abroad|other countries)\b|"
            r"\bcountries other than\b|\boutside (?:of )?(?:India|the [A-Z]\w+|your country)",
            2.5,
        ),
        (r"\bgoverned by\b|\bjurisdiction\b|\bcourts? of\b|\blaws of\b", 2.5),
    ),
}

# Section headings that name a class: a statement under one of them leans to it.
HEADINGS: list[tuple[re.Pattern, str]] = [
    (re.compile(p, re.I), cls)
    for p, cls in (
        (r"\bhow long\b|\bretention\b|\bretain", RETENTION),
        (r"\bsecur|\bsafe\b|\bprotection of\b|\bprotect", SECURITY),
        (r"\bchild|\bminor|\bage\b", AUDIENCES),
        (r"\btransfer|\binternational|\bjurisdiction|\bgoverning law|\bcalifornia|\beuropean", AUDIENCES),
        (r"\bshar|\bdisclos|\bthird[- ]part|\bwith whom\b", SHARING),
        (r"\b(?:your )?(?:privacy )?rights\b|\baccess\b|\bdeactivat|\bdelet", ACCESS),
        (r"\bchoice|\bopt[- ]?out|\bunsubscrib|\bmarketing preferences", CHOICE),
        (r"\bupdates? to\b|\bchanges? (?:in|to)\b|\bpolicy (?:updates|changes)|\bupdates? (?:to )?this", CHANGE),
        (r"\bdo not track", DNT),
        (
            r"\bcollect|\bwe use\b|\bhow (?:is|do|we) .*\buse|\bpurpose|\bcookies|\btracking|\b(?:information|data) "
            r"we\b|\bwe process\b|\bwhy we\b",
            FIRST_PARTY,
        ),
    )
]


def _as_we(text: str | None, aliases: list[str]) -> str:
    """The business's own name read as "we", so "Acme Ltd may collect…" is a first-party statement."""
    text = text or ""
    for alias in aliases:
        text = re.sub(rf"\b{re.escape(alias)}\b", "we", text, flags=re.I)
    return text


def scores(statement: Statement, aliases: list[str] = ()) -> dict[str, float]:
    """Each class's score for the statement: its own cues, half its list lead's, and its heading's bonus."""
    result = dict.fromkeys(CLASSES[:-1], 0.0)
    text, lead = _as_we(statement.text, aliases), _as_we(statement.lead, aliases)
    for cls, cues in CUES.items():
        for pattern, weight in cues:
            if pattern.search(text):
                result[cls] += weight
            if lead and pattern.search(lead):
                result[cls] += weight * LEAD_WEIGHT
    for heading in (statement.section, statement.label):
        if not heading:
            continue
        for pattern, cls in HEADINGS:
            if pattern.search(heading):
                result[cls] += HEADING_BONUS
                break
    return result


def classify(statement: Statement, aliases: list[str] = ()) -> tuple[str, float]:
    """(class, confidence) of one statement; `aliases` are the names the business gives itself."""
    ranked = sorted(scores(statement, aliases).items(), key=lambda kv: (-kv[1], CLASSES.index(kv[0])))
    (best, top), (_, second) = ranked[0], ranked[1]
    if top < THRESHOLD:
        return OTHER, round(0.6 - 0.2 * top / THRESHOLD, 2)
    return best, round(top / (top + second + 1), 2)


def classify_all(statements: list[Statement], aliases: list[str] = ()) -> None:
    """Set `cls` and `confidence` on every statement."""
    for statement in statements:
        statement.cls, statement.confidence = classify(statement, aliases)
