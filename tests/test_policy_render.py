"""`vowkeep policy render`: the notice and the record of processing, generated from the declaration alone.

NTC-1 (the notice has the seeds' sections, from the declaration), CK-4 (every cookie listed), XFR-1 (storage and
transfers in the record of processing), NTC-4 (jurisdiction shown), and escaping of whatever a declaration holds.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from html.parser import HTMLParser

import pytest
import yaml
from markdown_it import MarkdownIt

from tests.conftest import POLICIES
from vowkeep.policy import load_file, load_text
from vowkeep.policy.render import (
    render_cookie_table_html,
    render_html,
    render_html_article,
    render_markdown,
    render_ropa,
    render_ropa_csv,
)

SAMPLE_PATH = POLICIES / "wsoutsourcer.yaml"
SAMPLE = SAMPLE_PATH.read_text()
DECLARATIONS = sorted(POLICIES.glob("*.yaml"))
WSOUTSOURCER_SECTIONS = [
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
]
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def _mutated(old: str, new: str) -> str:
    assert old in SAMPLE, old
    return SAMPLE.replace(old, new, 1)


def _policy(text: str = SAMPLE):
    return load_text(text, "variant.yaml").policy


def _variant(change) -> object:
    """A declaration changed as data (for edits too wide for a text replacement), validated like any other."""
    data = yaml.safe_load(SAMPLE)
    change(data)
    return _policy(yaml.safe_dump(data, sort_keys=False))


def _commonmark(markdown: str) -> str:
    return MarkdownIt("commonmark").enable("table").render(markdown)


class Page(HTMLParser):
    """The structure of an HTML document: tags with attributes, body text chunks, nesting errors."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.errors: list[str] = []
        self.doctype = None
        self._stack: list[str] = []
        self.feed(html)
        self.close()
        if self._stack:
            self.errors.append(f"unclosed: {self._stack}")

    def handle_decl(self, decl):
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self._stack.append(tag)

    def handle_endtag(self, tag):
        if not self._stack or self._stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self._stack[-1:] or 'nothing'}")
        else:
            self._stack.pop()

    def handle_data(self, data):
        if not {"head", "style", "title"} & set(self._stack) and data.strip():
            self.text.append(data)

    def all(self, name: str) -> list[dict]:
        return [attrs for tag, attrs in self.tags if tag == name]

    def words(self) -> list[str]:
        return " ".join(self.text).split()


def _expected_sections(policy) -> list[str]:
    """The sections a declaration has something to say in, in the seeds' order; three always appear."""
    org, minors = policy.organization, policy.minors
    present = {
        "collect": True,
        "use": True,
        "sharing": bool(policy.recipients or policy.limits.never_sell or policy.notice.public_content),
        "cookies": bool(policy.cookies or policy.cookie_categories),
        "social-logins": any(c.channel == "social_login" for c in policy.collection_points),
        "transfers": True,
        "third-party-sites": bool(policy.notice.third_party_sites),
        "retention": True,
        "security": True,
        "children": bool(minors.minimum_age or minors.guardian_may_consent or minors.report_contact),
        "rights": True,
        "changes": True,
        "contact": True,
        "jurisdiction": bool(org.jurisdiction or org.governing_law or org.courts),
    }
    return [section for section, shown in present.items() if shown]


# --- sections (NTC-1) --------------------------------------------------------------------------


def test_wsoutsourcer_notice_has_every_section_with_its_anchor_ntc_1(cli):
    """NTC-1: the sample declaration yields the seed's sections in order, each with its stable anchor."""
    result = cli("policy", "render", SAMPLE_PATH, "--format", "md")
    assert result.exit_code == 0, result.output
    anchors = re.findall(r'^<a id="([a-z-]+)"></a>$', result.stdout, re.MULTILINE)
    assert [a for a in anchors if a != "cookie-table"] == WSOUTSOURCER_SECTIONS
    assert _expected_sections(load_file(SAMPLE_PATH).policy) == WSOUTSOURCER_SECTIONS

    result = cli("policy", "render", SAMPLE_PATH, "--format", "html")
    assert result.exit_code == 0, result.output
    page = Page(result.stdout)
    assert [h["id"] for h in page.all("h2")] == ["contents", *WSOUTSOURCER_SECTIONS]
    assert [a["href"] for a in page.all("a") if a["href"].startswith("#")][: len(WSOUTSOURCER_SECTIONS)] == [
        f"#{s}" for s in WSOUTSOURCER_SECTIONS
    ]


@pytest.mark.parametrize("path", DECLARATIONS, ids=[p.stem for p in DECLARATIONS])
def test_every_example_declaration_renders_its_sections_ntc_1(cli, path):
    """NTC-1: each example declaration renders in every format, with the sections it has something to say in."""
    policy = load_file(path).policy
    expected = _expected_sections(policy)
    markdown = cli("policy", "render", path)
    assert markdown.exit_code == 0, markdown.output
    assert re.findall(r'^<a id="([a-z-]+)"></a>$', markdown.stdout, re.MULTILINE) == [
        a for a in _anchors_in_order(expected, policy)
    ]
    titles = re.findall(r"^## (\d+)\. ", markdown.stdout, re.MULTILINE)
    assert titles == [str(i) for i in range(1, len(expected) + 1)]

    page = Page(cli("policy", "render", path, "-f", "html").stdout)
    assert page.errors == []
    assert [h["id"] for h in page.all("h2")] == ["contents", *expected]
    for fmt in ("ropa", "ropa-csv"):
        result = cli("policy", "render", path, "-f", fmt)
        assert result.exit_code == 0, result.output
        assert policy.organization.name in result.stdout or fmt == "ropa-csv"


def _anchors_in_order(sections: list[str], policy) -> list[str]:
    anchors = []
    for section in sections:
        anchors.append(section)
        if section == "cookies" and policy.cookies:
            anchors.append("cookie-table")
    return anchors


def test_sections_with_nothing_to_say_are_omitted_but_rights_changes_contact_stay():
    """NTC-1: an empty section is left out; "Your rights", "Changes" and "Contact" always appear."""

    def strip(data):
        for key in ("cookies", "cookie_categories", "recipients", "reports", "holds", "notice", "usage_data"):
            data.pop(key)
        data["storage"]["transfers"] = []
        data["collection_points"] = [
            c for c in data["collection_points"] if c["channel"] not in ("social_login", "import")
        ]
        data["minors"] = {"minimum_age": 0}
        data["rights"] = {"offered": ["access"]}
        data["changes"] = {"material": [], "notify": []}

    policy = _variant(strip)
    expected = ["collect", "use", "transfers", "retention", "security", "rights", "changes", "contact"]
    assert [h["id"] for h in Page(render_html(policy)).all("h2")] == ["contents", *expected]
    markdown = render_markdown(policy)
    assert re.findall(r'^<a id="([a-z-]+)"></a>$', markdown, re.MULTILINE) == expected
    assert "We may update this policy." in markdown
    assert "See your information" in markdown
    assert "We do not transfer it to other countries." in markdown


# --- the text says what the declaration says ---------------------------------------------------


def _section(markdown: str, section: str) -> str:
    start = markdown.index(f'<a id="{section}"></a>')
    end = markdown.find('<a id="', start + 1)
    while end != -1 and markdown.startswith('<a id="cookie-table"', end):
        end = markdown.find('<a id="', end + 1)
    return markdown[start : end if end != -1 else None]


def test_notice_states_the_declared_facts_ntc_1():
    """NTC-1: retention, cap, minimum age, recipients and their conditions come from the declaration."""
    policy = _policy()
    markdown = render_markdown(policy)
    retention = _section(markdown, "retention")
    assert "**Running your account.** 1 month after you close your account, then deleted." in retention
    assert "**Site analytics and security.** 7 days after we collect it, then deleted." in retention
    assert "No purpose keeps your information longer than 1 month." in retention
    assert "**Fraud investigation.**" in retention
    assert "kept isolated for up to 1 month" in retention

    use = _section(markdown, "use")
    assert "**Marketing e-mail.**" in use and "Until you object." in use
    assert "**Contests and giveaways.**" in use and "Only with your consent." in use
    assert "Legal basis: the law requires it." in use

    sharing = _section(markdown, "sharing")
    for recipient in policy.recipients:
        assert f"**{recipient.name}.**" in sharing, recipient.name
    assert "Aggregate statistics only, in groups of at least 10 people" in sharing
    assert sharing.count("Only after we review and approve each request.") == 2
    assert "We never sell" not in markdown  # the sample does not forbid sale: the notice must not claim it

    children = _section(markdown, "children")
    assert "not meant for anyone under 18" in children
    assert "For Account registration we ask for your date of birth and refuse anyone under 18." in children
    assert (
        "For Contest or giveaway entry and Sign-up with a social network we ask you to confirm that you are at "
        "least 18." in children
    )
    assert "[support@wsoutsourcer.com](mailto:support@wsoutsourcer.com)" in children

    social = _section(markdown, "social-logins")
    assert "Facebook or Twitter" in social
    assert "We keep only: E-mail address, First name, Last name and Profile picture." in social
    assert "Social network friends list" in social and "discarded before anything is stored" in social

    collect = _section(markdown, "collect")
    assert "From public databases and joint marketing partners we receive:" in collect
    assert "**We never store:** Card number (never stored) and Social network friends list." in collect
    assert "never store it" in collect  # the IP address: country only

    assert policy.notice.third_party_sites.split(".")[0] in _section(markdown, "third-party-sites")
    assert "Global Privacy Control" in _section(markdown, "cookies")
    assert "We answer within 30 days." in _section(markdown, "rights")
    assert "tell you by e-mail and with a notice on our website" in _section(markdown, "changes")
    assert "**Last updated:** September 4, 2018" in markdown


def test_never_sell_is_stated_when_declared():
    policy = _policy(_mutated("  never_sell: false", "  never_sell: true"))
    assert "**We never sell your personal information.**" in _section(render_markdown(policy), "sharing")
    assert "<strong>We never sell your personal information.</strong>" in render_html_article(policy)


def test_version_and_update_date_are_shown(cli):
    """NTC-1: the header carries the version's number and its "last updated" date when they are given."""
    policy = _policy()
    markdown = render_markdown(policy, version=4, updated=dt.date(2024, 1, 2))
    assert "**Last updated:** January 2, 2024 · **Version:** 4" in markdown
    article = render_html_article(policy, version=4, updated=dt.date(2024, 1, 2))
    assert '<time datetime="2024-01-02">January 2, 2024</time>' in article
    assert "<strong>Version:</strong> 4" in article
    assert "Version" not in render_markdown(policy).split("\n\n")[1]

    result = cli("policy", "render", SAMPLE_PATH, "--version", "4", "--updated", "2024-01-02")
    assert result.stdout == markdown
    bad = cli("policy", "render", SAMPLE_PATH, "--updated", "2024-13-40")
    assert bad.exit_code == 2 and "not a date" in bad.stderr


def test_jurisdiction_and_governing_law_are_shown_ntc_4():
    """NTC-4: a declared governing law and courts get their own section, after Contact."""
    text = _mutated(
        "  affiliates: >-",
        "  jurisdiction: India\n"
        "  governing_law: the laws of India\n"
        "  courts: the courts of Kolkata, India\n"
        "  affiliates: >-",
    )
    policy = _policy(text)
    markdown = render_markdown(policy)
    anchors = re.findall(r'^<a id="([a-z-]+)"></a>$', markdown, re.MULTILINE)
    assert anchors[-2:] == ["contact", "jurisdiction"]
    section = _section(markdown, "jurisdiction")
    assert "governed by the laws of India." in section
    assert "brought in the courts of Kolkata, India." in section
    page = Page(render_html(policy))
    assert [h["id"] for h in page.all("h2")][-1] == "jurisdiction"
    assert "Kolkata" in " ".join(page.words())
    ropa = render_ropa(policy)
    assert "**Governing law:** the laws of India" in ropa and "**Courts:** the courts of Kolkata, India" in ropa

    only_country = _policy(_mutated("  affiliates: >-", "  jurisdiction: India\n  affiliates: >-"))
    assert "governed by the laws of India." in render_markdown(only_country)


def test_every_kind_of_declared_statement_renders_alike_in_both_formats():
    """Options the sample does not use (client data, truncated IPs, noise, phone, agents…) render, md = html."""

    def extend(data):
        org = data["organization"]
        org.update(legal_name="WS Outsourcer Ltd", address="1 Main Street, Springfield")
        org["contact"]["phone"] = "+1 555 0100"
        data["collection_points"].append(
            {
                "key": "client_data",
                "label": "Data our clients send us",
                "channel": "client_upload",
                "purposes": ["support"],
                "fields": [{"name": "email", "category": "user.contact.email", "type": "email"}],
            }
        )
        data["usage_data"].update(ip_address="truncated", per_subject_counts=True)
        data["recipients"][6]["aggregate_only"]["epsilon_budget"] = 1.0
        data["recipients"][0]["country"] = "US"
        data["purposes"][0]["retention"]["then"] = "anonymise"
        data["cookies"].append({"name": "px", "category": "advertising", "lifetime": "PT12H", "party": "third"})
        data["rights"].update(channels=["center", "email", "phone", "agent"], review="automatic")
        data["changes"]["notice_period"] = "P30D"

    policy = _variant(extend)
    markdown = render_markdown(policy)
    for phrase in (
        "**Data our clients send us.** Provided by our clients we receive: E-mail address.",
        "We store only a shortened IP address",
        "we also keep counts of your visits and purchases",
        "Random noise is added so that no one can be singled out.",
        "**Payment processor.** Located in US.",
        "1 month after you close your account, then anonymised.",
        "| px | Advertising | Advertising on our website | 12 hours | Third party |",
        "by phone on [+1 555 0100](tel:+15550100) or through an authorized agent acting for you",
        "Requests are carried out automatically.",
        "30 days before it takes effect.",
        "contact WS Outsourcer (WS Outsourcer Ltd).",
        "- Post: 1 Main Street, Springfield",
    ):
        assert phrase in markdown, phrase
    assert Page(render_html_article(policy)).words() == Page(_commonmark(markdown)).words()
    assert "**Address:** 1 Main Street, Springfield" in render_ropa(policy)
    assert "client_data" not in render_ropa_csv(policy)  # rows are purposes × categories, not collection points


# --- cookies (CK-4) ----------------------------------------------------------------------------


def _table_rows(html: str, table_id: str) -> list[list[str]]:
    """The cells' text of each body row of one table."""

    class Rows(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.rows, self.inside, self.body, self.cell = [], False, False, None

        def handle_starttag(self, tag, attrs):
            if tag == "table" and dict(attrs).get("id") == table_id:
                self.inside = True
            elif self.inside and tag == "tbody":
                self.body = True
            elif self.inside and self.body and tag == "tr":
                self.rows.append([])
            elif self.inside and self.body and tag in ("td", "th"):
                self.cell = ""

        def handle_endtag(self, tag):
            if tag in ("td", "th") and self.cell is not None:
                self.rows[-1].append(self.cell)
                self.cell = None
            elif tag == "table":
                self.inside = self.body = False

        def handle_data(self, data):
            if self.cell is not None:
                self.cell += data

    parser = Rows()
    parser.feed(html)
    return parser.rows


def test_cookie_table_lists_every_declared_cookie_ck_4():
    """CK-4: name, category, purpose, lifetime and party of every declared cookie, in HTML and Markdown."""
    policy = _policy()
    expected = {
        "vk_consent": ["Essential", "Remembers your cookie choices (Running your account)", "1 year", "First party"],
        "session": ["Essential", "Keeps you signed in (Running your account)", "Until you close your browser",
                    "First party"],
        "vk_visitor": ["Analytics", "A random visitor id for counting visits (Site analytics and security)",
                       "30 days", "First party"],
        "ad_id": ["Advertising", "Lets advertisers serve ads (Advertising on our website)", "30 days",
                  "Third party: Third-party advertising companies"],
    }  # fmt: skip
    assert {c.name for c in policy.cookies} == set(expected)
    for html in (render_cookie_table_html(policy), render_html(policy)):
        rows = _table_rows(html, "cookie-table")
        assert {row[0]: row[1:] for row in rows} == expected
    table = Page(render_cookie_table_html(policy))
    assert table.errors == []
    assert [a["scope"] for a in table.all("th")][:5] == ["col"] * 5
    assert len(table.all("caption")) == 1

    md_rows = _table_rows(
        _commonmark(render_markdown(policy)).replace("<table>", '<table id="cookie-table">', 1), "cookie-table"
    )
    assert {row[0]: row[1:] for row in md_rows} == expected


# --- record of processing (XFR-1) --------------------------------------------------------------


def test_ropa_shows_storage_regions_and_transfers_with_safeguards_xfr_1(cli):
    """XFR-1: the record lists storage regions, each transfer with its safeguard, per purpose and recipient."""
    policy = _policy()
    result = cli("policy", "render", SAMPLE_PATH, "--format", "ropa")
    assert result.exit_code == 0, result.output
    ropa = result.stdout
    assert ropa == render_ropa(policy)
    assert "Storage regions: EU." in ropa
    html = _commonmark(ropa)
    activities = _table_rows(html.replace("<table>", '<table id="t">', 1), "t")  # the first table
    assert len(activities) == len(policy.purposes)
    by_purpose = {row[0]: row for row in activities}
    scc = "to US (Standard contractual clauses with each receiving party)"
    assert by_purpose["Completing a purchase"][-1] == f"stored in EU; {scc}"
    assert by_purpose["Completing a purchase"][4] == "Contract, Art. 6(1)(b)"
    assert by_purpose["Completing a purchase"][6] == "Payment processor"
    assert by_purpose["Completing a purchase"][7] == "1 month after we collect it, then deleted"
    assert by_purpose["Contests and giveaways"][-1] == "stored in EU"  # no recipient, no transfer
    assert "| US | Standard contractual clauses with each receiving party | Payment processor; " in ropa
    for recipient in policy.recipients:
        assert f"| {recipient.name} | {recipient.kind.value} |" in ropa
    assert "| Payment processor | processor | — |" in ropa
    assert f"{scc} |" in ropa.split("## 4. Recipients")[1]
    assert "aggregates only, groups of at least 10" in ropa
    assert "**Declaration effective:** 2018-09-04" in ropa


def test_ropa_csv_has_a_row_per_purpose_and_category_xfr_1(cli):
    result = cli("policy", "render", SAMPLE_PATH, "--format", "ropa-csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    purchase = {r["category"]: r for r in rows if r["purpose"] == "transaction"}
    assert set(purchase) == {"user.contact.email", "user.payment.card_token", "user.contact.address"}
    card = purchase["user.payment.card_token"]
    assert card["recipients"] == "Payment processor"
    assert card["transfers"] == "to US (Standard contractual clauses with each receiving party)"
    assert (card["legal_basis"], card["retention"], card["storage_regions"]) == ("contract", "P1M", "EU")
    assert result.stdout == render_ropa_csv(_policy())


# --- escaping ----------------------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"


def _hostile():
    text = _mutated("{key: user.name.first, label: First name}", f'{{key: user.name.first, label: "{SCRIPT}"}}')
    text = text.replace("name: WS Outsourcer\n", 'name: "Smith & <Sons> *Ltd* [x](javascript:alert(2))"\n', 1)
    text = text.replace("{name: session, category: essential,", '{name: "a|b*c_d`e", category: essential,', 1)
    text = text.replace("    url: https://www.wsoutsourcer.com\n", "    url: javascript:alert(3)\n", 1)
    text = text.replace("  - key: hosting\n    name: Hosting provider", "  - key: hosting\n    name: '# 1. Host_er'", 1)
    return _policy(text)


def test_html_escapes_whatever_the_declaration_holds():
    """A label `<script>…` is shown as text, never run; a `javascript:` address is never a link."""
    policy = _hostile()
    for html in (render_html(policy), render_html_article(policy)):
        assert "<script" not in html.lower()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "Smith &amp; &lt;Sons&gt;" in html
        page = Page(html)
        assert page.errors == []
        assert not any(a.get("href", "").lower().startswith("javascript:") for a in page.all("a"))
        assert SCRIPT in " ".join(page.words())
    assert "a|b*c_d`e" in [row[0] for row in _table_rows(render_cookie_table_html(policy), "cookie-table")]


def test_markdown_escapes_whatever_the_declaration_holds():
    """A label `<script>…` is harmless in Markdown: a CommonMark renderer shows it as text, formatting intact."""
    policy = _hostile()
    for markdown in (render_markdown(policy), render_ropa(policy)):
        assert SCRIPT not in markdown
        html = _commonmark(markdown)
        assert "<script" not in html.lower()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert not [h for h in re.findall(r'href="([^"]*)"', html) if not h.startswith(("#", "mailto:", "https:"))]
        assert "<em>" not in html  # no stray emphasis from `*` or `_` in names
        page = Page(html)
        assert SCRIPT in " ".join(page.words())
    html = _commonmark(render_markdown(policy))
    assert "<h1>Smith &amp; &lt;Sons&gt; *Ltd* [x](javascript:alert(2)) Privacy Policy</h1>" in html
    rows = _table_rows(html.replace("<table>", '<table id="c">', 1), "c")
    assert [len(r) for r in rows] == [5] * len(policy.cookies)
    assert rows[1][0] == "a|b*c_d`e"
    assert "<strong># 1. Host_er.</strong>" in html  # not a heading, not a list


# --- the page itself ---------------------------------------------------------------------------


def test_html_page_is_complete_self_contained_and_accessible():
    """One h1, unique ids, a contents list that points at them, lang, viewport, no script or outside resource."""
    policy = _policy()
    html = render_html(policy)
    page = Page(html)
    assert page.doctype and page.doctype.lower() == "doctype html"
    assert page.errors == []
    assert page.all("html") == [{"lang": "en"}]
    assert len(page.all("h1")) == 1
    assert len(page.all("title")) == 1 and len(page.all("main")) == 1 and len(page.all("nav")) == 1
    assert any(m.get("name") == "viewport" for m in page.all("meta"))
    ids = [attrs["id"] for _, attrs in page.tags if "id" in attrs]
    assert len(ids) == len(set(ids))
    for tag in ("script", "link", "img", "iframe", "object", "embed", "base", "form"):
        assert page.all(tag) == [], tag
    assert not any("src" in attrs for _, attrs in page.tags)
    assert "url(" not in html and "@import" not in html
    declared = {
        policy.organization.website,
        policy.organization.contact.url,
        f"mailto:{policy.organization.contact.email}",
        f"mailto:{policy.minors.report_contact}",
    }
    for anchor in page.all("a"):
        href = anchor["href"]
        assert href[1:] in ids if href.startswith("#") else href in declared, href
    for section in page.all("section"):
        assert section["aria-labelledby"] in ids
    for table in page.all("table"):
        assert table["id"] in ids
    assert render_html_article(policy) in html


def test_markdown_and_html_say_the_same_thing():
    """Both formats come from one structure: their words are the same, in the same order."""
    for path in DECLARATIONS:
        policy = load_file(path).policy
        article = Page(render_html_article(policy, version=2)).words()
        markdown = Page(_commonmark(render_markdown(policy, version=2))).words()
        assert article == markdown, path.name


# --- the command -------------------------------------------------------------------------------


def test_output_option_writes_the_file(cli, tmp_path):
    out = tmp_path / "privacy.html"
    result = cli("policy", "render", SAMPLE_PATH, "--format", "html", "-o", out)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert out.read_text(encoding="utf-8") == render_html(_policy())
    assert out.read_text().startswith("<!DOCTYPE html>")

    md = tmp_path / "privacy.md"
    assert cli("policy", "render", SAMPLE_PATH, "-o", md).exit_code == 0
    assert md.read_text() == render_markdown(_policy())

    unwritable = cli("policy", "render", SAMPLE_PATH, "-o", tmp_path / "missing" / "x.md")
    assert unwritable.exit_code == 1 and "cannot write" in unwritable.stderr


def test_declaration_that_does_not_check_exits_1(cli, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(_mutated("  retention_cap: P1M", "  retention_cap: a month"))
    result = cli("policy", "render", bad, "--format", "html")
    assert result.exit_code == 1
    assert "limits.retention_cap: 'a month' is not an ISO-8601 duration" in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.output
