"""HTML from strangers, made safe to show: sanitising, text→HTML escaping and HTML→text conversion.

Mail HTML is hostile by default: scripts, event handlers, tracking pixels and remote images that tell the
sender when (and from where) an agent opened the ticket. We keep layout tags, drop everything active and
never let the browser fetch anything remote unless the caller explicitly allows it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from html.parser import HTMLParser

import nh3

LINK_REL = "noopener noreferrer nofollow"

# Inline images arrive as parts of the same mail and are referenced by Content-ID; the web layer rewrites
# `cid:` to its own attachment URL, so these are the only images that render by default.
_SAFE_URL_SCHEMES = frozenset({"http", "https", "mailto", "cid", "tel"})
_EXTRA_TAGS = frozenset({"font", "tt", "u"})
_DROP_WITH_CONTENT = frozenset(
    {"script", "style", "title", "head", "noscript", "template", "object", "iframe"}
)

_ATTRIBUTES: dict[str, set[str]] = {
    "*": {"dir", "lang", "title", "align", "valign"},
    "a": {"href", "name"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "width"},
    "th": {"colspan", "rowspan", "width"},
    "table": {"width", "border", "cellpadding", "cellspacing"},
    "font": {"color", "size", "face"},
    "ol": {"start", "type"},
}


def _neutralise_remote_images(tag: str, attr: str, value: str) -> str | None:
    if tag == "img" and attr == "src" and not value.strip().lower().startswith("cid:"):
        return None
    return value


def sanitize_html(markup: str, *, allow_remote_images: bool = False) -> str:
    """Return ``markup`` with no scripts, no event handlers, no styles and no active URLs.

    Guarantees: only ``http``, ``https``, ``mailto``, ``tel`` and ``cid`` URLs survive; every link carries
    ``rel="noopener noreferrer nofollow"``; unless ``allow_remote_images`` is true, an ``<img>`` keeps its
    ``src`` only when it is a ``cid:`` reference to an inline part (others lose the ``src``, so nothing
    remote is loaded when the ticket is opened).
    """
    return nh3.clean(
        markup,
        tags=set(nh3.ALLOWED_TAGS) | _EXTRA_TAGS,
        clean_content_tags=set(_DROP_WITH_CONTENT),
        attributes=_ATTRIBUTES,
        attribute_filter=None if allow_remote_images else _neutralise_remote_images,
        link_rel=LINK_REL,
        url_schemes=set(_SAFE_URL_SCHEMES),
        strip_comments=True,
    )


def text_to_html(text: str) -> str:
    """Escape plain text for HTML and keep its line breaks; the result contains no tags except ``<br>``."""
    escaped = html.escape(text.replace("\r\n", "\n").replace("\r", "\n"), quote=True)
    return escaped.replace("\n", "<br>\n")


# Elements that start a new line in the rendered text; everything else flows inline.
_BLOCK_TAGS = frozenset(
    {
        "p", "div", "section", "article", "header", "footer", "blockquote", "pre", "table", "tr",
        "ul", "ol", "li", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "address", "center",
    }
)  # fmt: skip
_VOID_TAGS = frozenset({"br", "hr", "img", "meta", "link", "input", "base", "col", "area", "wbr", "source"})
_SKIP_CONTENT = frozenset({"script", "style", "title", "head", "noscript", "template", "xml"})

# Markers for block and paragraph edges, resolved into line breaks once the whole text is known.
_BLOCK = "\x00"
_PARAGRAPH = "\x01"
_BREAK_RUN = re.compile(r"[\x00\x01\n]+(?:[ \t]*[\x00\x01\n]+)*")

StopPredicate = Callable[[str, dict[str, str]], bool]


class _TextExtractor(HTMLParser):
    """Collects readable text; stops for good at the first element ``stop_at`` accepts."""

    def __init__(self, stop_at: StopPredicate | None) -> None:
        super().__init__(convert_charrefs=True)
        self._stop_at = stop_at
        self._chunks: list[str] = []
        self._skip_depth = 0
        self.stopped = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.stopped:
            return
        attributes = {name.lower(): value or "" for name, value in attrs}
        if self._stop_at is not None and self._stop_at(tag, attributes):
            self.stopped = True
            return
        if tag == "body":
            # A `<head>` that was never closed ends where the body starts, as it does in browsers.
            self._skip_depth = 0
        if tag in _SKIP_CONTENT:
            self._skip_depth += 1
        elif tag == "br":
            self._chunks.append("\n")
        elif tag == "li":
            self._chunks.append(_BLOCK + "- ")
        elif tag == "p":
            self._chunks.append(_PARAGRAPH)
        elif tag in _BLOCK_TAGS:
            self._chunks.append(_BLOCK)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # `<br/>` and `<p/>` must not open a skip region that never closes.
        if tag in _SKIP_CONTENT:
            return
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if self.stopped:
            return
        if tag in _SKIP_CONTENT:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag == "p":
            self._chunks.append(_PARAGRAPH)
        elif tag in _BLOCK_TAGS:
            self._chunks.append(_BLOCK)

    def handle_data(self, data: str) -> None:
        if self.stopped or self._skip_depth:
            return
        # HTML whitespace (newlines in the source included) collapses to one space; real breaks come from tags.
        self._chunks.append(re.sub(r"[ \t\r\n\f\x00\x01]+", " ", data))

    def text(self) -> str:
        joined = "".join(self._chunks).replace("\xa0", " ")
        spaced = _BREAK_RUN.sub(_render_break_run, joined)
        lines = [line.strip() for line in spaced.split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _render_break_run(match: re.Match[str]) -> str:
    # Browsers ignore a <br> that ends a block, merge adjacent block edges into one line break, and give
    # paragraphs a blank line; `<div><br></div>` is the usual way mailers write an empty line.
    run = re.sub(r"[ \t]", "", match.group(0))
    if match.start() > 0 and run.startswith("\n" + _BLOCK):
        run = run[1:]
    breaks = run.count("\n") + (1 if _BLOCK in run else 0)
    if _PARAGRAPH in run:
        breaks = max(breaks, 2)
    return "\n" * breaks


def html_to_text(markup: str, *, stop_at: StopPredicate | None = None) -> str:
    """Render HTML as readable plain text: scripts, styles and the head are dropped, blocks become lines.

    With ``stop_at``, conversion ends at the first start tag for which ``stop_at(tag, attributes)`` is true;
    reply extraction uses this to cut quoted history before it becomes text. Never raises on broken HTML.
    """
    extractor = _TextExtractor(stop_at)
    extractor.feed(markup)
    extractor.close()
    return extractor.text()
