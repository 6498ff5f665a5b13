"""Knowledge Markdown is rendered to HTML and sanitised: formatting stays, scripts, event
handler attributes and javascript: URLs go (flowdesk.knowledge.render)."""

from __future__ import annotations

import re

from flowdesk.knowledge.render import markdown_to_html


def test_markdown_is_rendered() -> None:
    html = markdown_to_html(
        "# Refunds\n\nPay back **within 14 days**; see [the policy](https://example.com/p).\n\n"
        "- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    )
    assert "<h1>Refunds</h1>" in html
    assert "<strong>within 14 days</strong>" in html
    assert 'href="https://example.com/p"' in html and 'rel="noopener noreferrer nofollow"' in html
    assert "<li>one</li>" in html and "<td>2</td>" in html


def test_scripts_handlers_and_javascript_urls_are_removed() -> None:
    html = markdown_to_html(
        "Hello <script>alert('x')</script> there\n\n"
        '<img src="https://example.com/a.png" onerror="alert(1)" alt="a">\n\n'
        '<a href="javascript:alert(2)" onclick="alert(3)">click</a>\n\n'
        "[md link](javascript:alert(4)) and <iframe src='https://evil.example'></iframe>\n\n"
        '<p style="color:red" onmouseover="alert(5)">styled</p>\n'
    )
    lowered = html.lower()
    assert "<script" not in lowered and "alert('x')" not in lowered
    assert "onerror" not in lowered and "onclick" not in lowered and "onmouseover" not in lowered
    assert not re.search(r"(href|src)=\"?\s*javascript", lowered)  # links lose such URLs
    assert ">click</a>" in html
    assert "<iframe" not in lowered and "style=" not in lowered
    assert 'src="https://example.com/a.png"' in html  # the harmless part stays
    assert "click" in html and "styled" in html


def test_plain_text_is_escaped_not_interpreted() -> None:
    assert markdown_to_html("1 < 2 & 3 > 2") == "<p>1 &lt; 2 &amp; 3 &gt; 2</p>\n"
