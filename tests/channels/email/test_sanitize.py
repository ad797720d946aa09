"""HTML from mail is made inert: no scripts, no remote loads, safe links; plain text escapes cleanly."""

from __future__ import annotations

from helpdesk.channels.email.sanitize import html_to_text, sanitize_html, text_to_html


def test_scripts_handlers_and_styles_are_removed() -> None:
    cleaned = sanitize_html('<p onclick="x()">Hi<script>alert(1)</script><style>p{}</style></p>')

    assert cleaned == "<p>Hi</p>"


def test_remote_images_lose_their_source_but_inline_cid_images_keep_it() -> None:
    cleaned = sanitize_html('<img src="https://tracker.example/p.gif"><img src="cid:logo@x" alt="logo">')

    assert "tracker.example" not in cleaned
    assert 'src="cid:logo@x"' in cleaned


def test_remote_images_can_be_allowed_explicitly() -> None:
    assert "https://img.example/a.png" in sanitize_html(
        '<img src="https://img.example/a.png">', allow_remote_images=True
    )


def test_links_get_a_safe_rel_and_javascript_urls_are_dropped() -> None:
    cleaned = sanitize_html('<a href="https://example.com">ok</a><a href="javascript:alert(1)">bad</a>')

    assert 'rel="noopener noreferrer nofollow"' in cleaned
    assert "javascript" not in cleaned


def test_plain_text_is_escaped_and_keeps_line_breaks() -> None:
    assert text_to_html('<b>"x"</b> & y\nz') == "&lt;b&gt;&quot;x&quot;&lt;/b&gt; &amp; y<br>\nz"


def test_html_becomes_readable_text() -> None:
    markup = (
        "<div>Hi</div><div><br></div><div>Thanks,</div><div>Ann<br></div><ul><li>one</li><li>two</li></ul>"
    )

    assert html_to_text(markup) == "Hi\n\nThanks,\nAnn\n- one\n- two"


def test_an_unclosed_head_does_not_swallow_the_body() -> None:
    assert html_to_text("<html><head><meta charset=utf-8><body>Hello</body>") == "Hello"
