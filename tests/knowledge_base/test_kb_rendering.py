"""Article bodies: Markdown to sanitised HTML, plain text for replies, and version diffs (pure)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from knowledge_base.rendering import plain_text, render_markdown, unified_diff


class Elements(HTMLParser):
    """Every element a browser would build from the HTML, with its attributes."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


@pytest.mark.parametrize(
    "markdown",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "<iframe src=https://evil.example></iframe>",
        "![x](data:text/html;base64,PHNjcmlwdD4=)",
        '<a href="https://ok.example" onclick="steal()">x</a>',
        "<style>body{display:none}</style>",
        '[x](https://ok.example "a" onmouseover=alert(1))',
    ],
)
def test_raw_html_scripts_and_dangerous_links_never_reach_the_page(markdown: str) -> None:
    for tag, attributes in Elements(render_markdown(markdown)).found:
        assert tag in {"p", "a", "img"}
        assert not any(name.startswith("on") for name in attributes)
        for name in ("href", "src"):
            assert (attributes.get(name) or "https:").startswith(("https:", "http:", "mailto:"))


def test_ordinary_markdown_renders_with_safe_links_and_tables() -> None:
    html = render_markdown(
        "# Reset\n\n**Hold** the button. See [docs](https://x.example).\n\n| a |\n|---|\n| 1 |"
    )
    assert "<h1>Reset</h1>" in html
    assert "<strong>Hold</strong>" in html
    assert '<a href="https://x.example" rel="noopener noreferrer nofollow">docs</a>' in html
    assert "<table>" in html


def test_plain_text_drops_markup_but_keeps_the_words() -> None:
    assert plain_text("# Reset & retry\n\n**Hold** <b>it</b>") == "Reset & retry\nHold <b>it</b>"


def test_a_diff_shows_removed_and_added_lines() -> None:
    diff = unified_diff("a\nb\n", "a\nc\n", old_label="v1", new_label="v2")
    assert diff.splitlines() == ["--- v1", "+++ v2", "@@ -1,2 +1,2 @@", " a", "-b", "+c"]
    assert unified_diff("same\n", "same\n", old_label="v1", new_label="v2") == ""
