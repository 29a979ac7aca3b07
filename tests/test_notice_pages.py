"""The notice as pages (NTC-1, CK-4), publishing versions (NTC-1, NTC-2), and console sign-in (SEC-2, CSRF)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from tests.conftest import POLICIES

SAMPLE = (POLICIES / "wsoutsourcer.yaml").read_text()


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.resources: list[str] = []
        self.h1 = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "h1":
            self.h1 += 1
        for name in ("src", "href"):
            if tag in ("script", "link", "img", "iframe") and attrs.get(name):
                self.resources.append(attrs[name])


def _publish(cli, instance, tmp_path, text, name="next.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return cli("policy", "publish", path, "--data-dir", instance.settings.data_dir)


def test_ntc1_privacy_page_is_the_rendered_declaration(client):
    response = client.get("/privacy")
    assert response.status_code == 200
    html = response.text
    for anchor in (
        "collect",
        "use",
        "sharing",
        "cookies",
        "retention",
        "security",
        "children",
        "rights",
        "changes",
        "contact",
    ):
        assert f'id="{anchor}"' in html
    assert "WS Outsourcer Privacy Policy" in html and "Version:</strong> 1" in html
    parser = _Links()
    parser.feed(html)
    assert parser.h1 == 1
    assert all(r.startswith("/") for r in parser.resources), parser.resources
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    md = client.get("/privacy.md")
    assert md.headers["content-type"].startswith("text/markdown")
    assert md.text.startswith("# WS Outsourcer Privacy Policy")


def test_ck4_cookie_page_lists_every_declared_cookie(client):
    html = client.get("/privacy/cookies").text
    for name, lifetime, party in (
        ("vk_consent", "1 year", "First party"),
        ("session", "Until you close your browser", "First party"),
        ("vk_visitor", "30 days", "First party"),
        ("ad_id", "30 days", "Third party"),
    ):
        row = re.search(rf"<tr>\s*<t[hd][^>]*>{name}</t[hd]>(.*?)</tr>", html, re.S)
        assert row, name
        assert lifetime in row.group(1) and party in row.group(1)


def test_ntc1_ntc2_publish_adds_a_version_keeps_the_old_and_flags_material_changes(client, instance, cli, tmp_path):
    """NTC-1: every earlier version stays readable. NTC-2: the versions page flags material changes."""
    longer = (
        SAMPLE.replace("retention_cap: P1M", "retention_cap: P2M")
        .replace("    retention: {period: P7D, after: collection}", "    retention: {period: P2M, after: collection}")
        .replace("effective_date: 2018-09-04", "effective_date: 2026-12-01")
    )
    result = _publish(cli, instance, tmp_path, longer)
    assert result.exit_code == 0, result.output
    # The server learns of a version published by another process within `refresh_seconds` (1 s); now, here.
    instance.vault._refresh_seconds = 0
    assert "published" in result.stdout and "as version 2 (material changes)" in result.stdout
    assert "MATERIAL" in result.stdout
    versions = client.get("/privacy/versions").text
    assert "Version 2</a> (current)" in versions and "Version 1</a>" in versions
    assert '<span class="flag">material</span>' in versions
    old = client.get("/privacy/versions/1")
    assert old.status_code == 200 and "It is no longer in force" in old.text and "1 month" in old.text
    assert "2 months" in client.get("/privacy").text
    missing = client.get("/privacy/versions/9")
    assert missing.status_code == 404 and "there is no version 9" in missing.text


def test_publish_is_refused_with_lint_errors_or_no_change(client, instance, cli, tmp_path):
    broken = SAMPLE.replace(
        "    retention: {period: P7D, after: collection}", "    retention: {period: P1Y, after: collection}"
    )
    result = _publish(cli, instance, tmp_path, broken)
    assert result.exit_code == 1
    assert "[retention-cap]" in result.stderr and "not published: 1 lint error" in result.stderr
    same = _publish(cli, instance, tmp_path, SAMPLE)
    assert same.exit_code == 1 and "is identical to the published version 1" in same.stderr
    assert "Version 2" not in client.get("/privacy/versions").text


def test_sec2_console_sign_in_needs_csrf_token_and_password(client):
    form = client.get("/admin/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    creds = client.creds
    no_token = client.post("/admin/login", data={"username": creds.admin_username, "password": creds.admin_password})
    assert no_token.status_code == 403 and "security token" in no_token.text
    forged = client.post(
        "/admin/login",
        data={"username": creds.admin_username, "password": creds.admin_password, "csrf_token": "x" * 43},
    )
    assert forged.status_code == 403
    wrong = client.post(
        "/admin/login", data={"username": creds.admin_username, "password": "nope", "csrf_token": token}
    )
    assert wrong.status_code == 401 and "Wrong username or password" in wrong.text
    assert client.get("/admin", follow_redirects=False).headers["location"] == "/admin/login"
    ok = client.post(
        "/admin/login",
        data={"username": creds.admin_username, "password": creds.admin_password, "csrf_token": token},
        follow_redirects=False,
    )
    assert ok.status_code == 303 and "vk_console" in ok.cookies
    home = client.get("/admin")
    assert home.status_code == 200 and "Signed in as admin (admin)" in home.text
    out = client.post("/admin/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/admin", follow_redirects=False).status_code == 303


def test_pages_escape_declared_text(tmp_path, cli):
    """Output escaping: a declaration's text is shown as text, never markup."""
    from fastapi.testclient import TestClient

    from tests.support import instances
    from vowkeep.web.app import create_app

    hostile = SAMPLE.replace("name: WS Outsourcer", 'name: "WS <script>alert(1)</script> & Co"')
    instance, _ = instances.create(tmp_path / "d", hostile)
    try:
        with TestClient(create_app(instance)) as c:
            for path in ("/privacy", "/privacy/cookies", "/privacy/versions", "/admin/login"):
                html = c.get(path).text
                assert "<script>alert(1)</script>" not in html
                assert "WS &lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html
    finally:
        instance.close()


def test_request_log_names_paths_without_queries_or_tokens(client, caplog):
    """No personal data or secrets in logs: queries (?email=…) are dropped, unsubscribe tokens replaced."""
    import logging

    with caplog.at_level(logging.INFO, logger="vowkeep.http"):
        client.get("/api/v1/subjects", params={"purpose": "support", "email": "secret.person@example.org"})
        client.get("/unsubscribe/sEcReT-ToKeN-123")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "GET /api/v1/subjects 401" in text and "GET /unsubscribe/{token}" in text
    assert "secret.person" not in text and "sEcReT-ToKeN-123" not in text
