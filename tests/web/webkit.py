"""What the web tests share besides fixtures: a signed-in staff member and reading a form's CSRF token."""

from __future__ import annotations

import re
from dataclasses import dataclass

CSRF = re.compile(r'name="_csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


@dataclass
class WebStaff:
    """A staff member signed in on the test's client through /login; ``csrf`` goes into their forms."""

    id: int
    email: str
    password: str
    csrf: str
