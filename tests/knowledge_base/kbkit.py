"""Shared set-up of the knowledge-base integration tests."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import httpx
import numpy as np

PRINTER = {
    "title": "Printer shows error E-1042",
    "summary": "Clear the paper path and restart the printer.",
    "body": "When the printer shows **E-1042** the paper is jammed.\n\nOpen the tray, remove the paper, restart.",
    "language": "en",
    "tags": ["printer", "hardware"],
    "category": "Hardware",
    "status": "published",
}
VPN = {
    "title": "Reset the VPN gateway token",
    "body": "Internal: the VPN gateway token is reset from the admin console under Security, Tokens.",
    "status": "published",
    "visibility": "internal",
}


class Tags(HTMLParser):
    """The elements of an HTML fragment with their attributes, as a browser would build them."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append((tag, dict(attrs)))


async def create(client: httpx.AsyncClient, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/kb/articles", json=fields, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


class FakeModel:
    """Embeds a text as the unit vector of the topic words it names; counts what it was asked."""

    TOPICS = ("card", "refund", "pin")

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def _vector(self, text: str) -> np.ndarray:
        vector = np.array([text.lower().count(topic) for topic in self.TOPICS], dtype=np.float32) + 0.01
        return vector / np.linalg.norm(vector)

    def query(self, texts: list[str]) -> np.ndarray:
        self.embedded += texts
        return np.stack([self._vector(text) for text in texts])

    def passage(self, texts: list[str]) -> np.ndarray:
        self.embedded += texts
        return np.stack([self._vector(text) for text in texts])
