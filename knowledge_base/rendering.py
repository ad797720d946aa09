"""Article bodies: Markdown to sanitised HTML, and a readable diff between two versions (pure, no I/O).

Markdown is rendered with raw HTML turned off (a ``<script>`` in the source comes out as text) and the
result is cleaned again by ``nh3`` with an allow-list of tags, attributes and URL schemes, so neither the
renderer nor a future option that enables HTML can let script, event handlers or ``javascript:`` links
through.
"""

from __future__ import annotations

import difflib
import html
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "i", "img", "kbd", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table", "tbody", "td", "th",
    "thead", "tr", "ul",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "th": {"align"}, "td": {"align"}}


@lru_cache(maxsize=1)
def _renderer() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(["table", "strikethrough"])


def render_markdown(markdown: str) -> str:
    """Sanitised HTML for an article body. Guarantees: no element or attribute outside the allow-list,
    only http(s)/mailto URLs, and every link opens with ``rel="noopener noreferrer nofollow"``."""
    return nh3.clean(
        _renderer().render(markdown),
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def plain_text(markdown: str) -> str:
    """The words of an article for the search index and for pasting into a reply (markup stripped)."""
    return html.unescape(nh3.clean(render_markdown(markdown), tags=set())).strip()


def unified_diff(old: str, new: str, *, old_label: str, new_label: str) -> str:
    """A unified diff of two texts, line by line (empty when they are equal)."""
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True), new.splitlines(keepends=True), old_label, new_label, lineterm="\n"
        )
    )
