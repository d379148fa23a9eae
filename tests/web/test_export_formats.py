"""``GET /documents/{id}/export?format=txt|md|html`` on both backends: the text as it is, or
rendered as a standalone sanitised page; the hostile corpus never comes out as live HTML."""

from __future__ import annotations

import base64
from html.parser import HTMLParser

from litestar.testing import AsyncTestClient

from testkit.hostile_markdown import CORPUS, DANGEROUS_TAGS, safe_url
from tests.web.api import Account, assert_error, register

TEXT = (
    "# Plan “B”\n\nSome **bold** and *italic*.\n\n- [ ] open\n- [x] done\n\n"
    "| a | b |\n|:--|--:|\n| 1 | 2 |\n"
)


async def imported(
    client: AsyncTestClient, owner: Account, text: str, name: str = "plan.md"
) -> str:
    body = {"name": name, "data": base64.b64encode(text.encode()).decode()}
    r = await client.post("/documents/import", json=body, headers=owner.headers)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


class Elements(HTMLParser):
    """Every start tag with its attributes, and whether it sits inside <main> (the rendering)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.body: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.head: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "main":
            self.depth += 1
        elif self.depth:
            self.body.append((tag, attrs))
        else:
            self.head.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "main":
            self.depth -= 1


def elements(html: str) -> Elements:
    parser = Elements()
    parser.feed(html)
    parser.close()
    return parser


async def test_txt_and_md_are_the_text_and_html_is_the_rendering(client: AsyncTestClient) -> None:
    ann = await register(client)
    doc = await imported(client, ann, TEXT)
    for fmt, media in (("txt", "text/plain"), ("md", "text/markdown")):
        r = await client.get(
            f"/documents/{doc}/export", params={"format": fmt}, headers=ann.headers
        )
        assert r.status_code == 200
        assert r.headers["content-type"].startswith(media)
        assert r.text == TEXT
        assert f".{fmt}" in r.headers["content-disposition"]
    r = await client.get(f"/documents/{doc}/export", params={"format": "html"}, headers=ann.headers)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "attachment" in r.headers["content-disposition"]
    assert ".html" in r.headers["content-disposition"]
    assert "default-src 'none'" in r.headers["content-security-policy"]
    page = r.text
    assert page.startswith("<!doctype html>")
    assert "<title>Plan “B”</title>" in page
    assert "@media print" in page  # prints well to PDF
    assert "<h1>Plan “B”</h1>" in page
    assert "<strong>bold</strong>" in page and "<em>italic</em>" in page
    assert '<th style="text-align:left">a</th>' in page
    found = elements(page)
    boxes = [dict(a) for t, a in found.body if t == "input"]
    assert [("checked" in b, b.get("type"), "disabled" in b) for b in boxes] == [
        (False, "checkbox", True),
        (True, "checkbox", True),
    ]


async def test_the_hostile_corpus_comes_out_inert(client: AsyncTestClient) -> None:
    ann = await register(client)
    doc = await imported(client, ann, CORPUS)
    r = await client.get(f"/documents/{doc}/export", params={"format": "html"}, headers=ann.headers)
    assert r.status_code == 200
    found = elements(r.text)
    assert found.body, "the corpus rendered to nothing"
    tags = {t for t, _ in found.body}
    assert not tags & set(DANGEROUS_TAGS), tags & set(DANGEROUS_TAGS)
    assert "script" not in found.head
    links = []
    for tag, attrs in found.body:
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name, value)
            assert name not in {"srcdoc", "formaction", "action", "style"} or (
                name == "style" and tag in {"th", "td"}
            ), (tag, name)
            if name in {"href", "src"}:
                assert value is not None and safe_url(value), (tag, name, value)
        if tag == "a":
            links.append(dict(attrs)["href"])
            assert dict(attrs).get("rel") == "noopener noreferrer", attrs
    # The harmless links survive (a percent-encoded colon is a relative path, inert); every
    # hostile one became text.
    assert links == [
        "javascript%3Awindow.__pwned='pct'",
        "https://example.org/",
        "mailto:a@example.org",
        "#top",
    ]
    assert "javascript:" not in "".join(v or "" for _, a in found.body for _, v in a).lower()
    # The markdown is still visible as text (nothing silently dropped but the tags).
    assert "&lt;script&gt;window.__pwned = 'script'&lt;/script&gt;" in r.text


async def test_export_format_errors_and_permissions(client: AsyncTestClient) -> None:
    ann, eve = await register(client), await register(client)
    doc = await imported(client, ann, TEXT)
    r = await client.get(f"/documents/{doc}/export", params={"format": "pdf"}, headers=ann.headers)
    assert_error(r, 400, "VALIDATION_ERROR")
    r = await client.get(f"/documents/{doc}/export", params={"format": "html"}, headers=eve.headers)
    assert_error(r, 404)
    r = await client.get(f"/documents/{doc}/export", params={"format": "html"})
    assert r.status_code == 401
