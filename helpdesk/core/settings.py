"""Typed settings read from ``HELPDESK_*`` environment variables, only when asked for."""

from __future__ import annotations

import os
from collections.abc import Mapping

import msgspec

from helpdesk.core.zones import is_time_zone

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./helpdesk.db"


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str = DEFAULT_DATABASE_URL
    # Pooled PostgreSQL connections per process, and how many more a burst may open (each closed again on its
    # return). No overflow by default: a burst waits for a pooled connection, which is cheaper than opening,
    # preparing and closing ones for it, and fewer server backends compete for the CPU (benchmarks/intake.py:
    # 10 + 0 served 20-40 % more tickets/s at 32 concurrent requests than 20 + 10).
    database_pool_size: int = 10
    database_max_overflow: int = 0
    # Unset: background jobs run inside the API process (the embedded default).
    redis_url: str | None = None
    base_url: str = "http://127.0.0.1:8000"
    attachment_dir: str = "./var/attachments"
    # "db" keeps attachment bytes in the database, "disk" under attachment_dir.
    attachment_storage: str = "db"
    max_attachment_bytes: int = 10 * 1024 * 1024
    max_ticket_attachment_bytes: int = 50 * 1024 * 1024
    session_days: int = 14
    magic_link_minutes: int = 30
    secure_cookies: bool = False
    # Requests allowed per client address and minute on the sensitive public endpoints.
    login_rate_per_minute: int = 10
    magic_link_rate_per_minute: int = 5
    public_ticket_rate_per_minute: int = 20
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_tls: bool = False
    mail_from: str = "Help desk <support@helpdesk.localhost>"
    # False: mail is written to the outbox and kept there (demo without an SMTP server).
    mail_enabled: bool = False
    # True adds the HTML rendering of every mail as a multipart/alternative part (the text part is always sent).
    mail_send_html: bool = True
    ticket_prefix: str = "HD"
    # Inbound mail: the largest raw message accepted (HTTP 413, SMTP 552, pipe exit 65 above it).
    max_inbound_mail_bytes: int = 40 * 1024 * 1024
    # Automatic answers to one sender within a window; more are stored and flagged, never answered.
    mail_auto_reply_cap: int = 10
    mail_auto_reply_window_minutes: int = 180
    # New tickets opened by mail from one sender per day; more are stored and flagged.
    mail_new_ticket_cap_per_day: int = 50
    # Fallback threading: same sender and normalised subject within this many days (0 turns it off).
    mail_thread_fallback_days: int = 14
    # Tried in order for text whose declared charset is missing or wrong.
    mail_fallback_charsets: str = "utf-8,windows-1251,koi8-r,latin-1"
    # The help desk's own addresses (comma-separated), never turned into customers; mail_from is always one.
    mail_own_addresses: str = ""
    # Minutes between two IMAP fetches of every enabled mailbox.
    mail_fetch_every_minutes: int = 1
    default_language: str = "en"
    # Times on pages are shown in the person's zone, else this one (an IANA name such as Europe/Berlin).
    default_time_zone: str = "UTC"
    # An OSRM server (http://osrm:5000) for road travel times in day plans; unset: straight-line estimates.
    osrm_url: str | None = None
    # Tickets tagged with one of these (comma-separated, e.g. "onsite") get an unscheduled work order by
    # themselves, at the customer's only asset; empty: the rule is off. Its visits last this many minutes.
    field_order_tags: str = ""
    field_order_duration_minutes: int = 60
    # Fuse multilingual-e5-small embeddings into knowledge-base search (needs `pip install 'helpdesk[semantic]'`).
    kb_semantic: bool = False

    def __post_init__(self) -> None:
        if self.database_pool_size < 1 or self.database_max_overflow < 0:
            raise ValueError("database_pool_size must be at least 1 and database_max_overflow at least 0")
        if not is_time_zone(self.default_time_zone):
            raise ValueError(f"default_time_zone: unknown time zone {self.default_time_zone!r}")
        if not 1 <= self.field_order_duration_minutes <= 1440:
            raise ValueError(
                f"field_order_duration_minutes: {self.field_order_duration_minutes} is not between 1 and 1440"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read every field from ``HELPDESK_<FIELD>``; unknown or malformed values raise ``ValueError``."""
        env = os.environ if environ is None else environ
        raw: dict[str, str] = {}
        for field in msgspec.structs.fields(cls):
            value = env.get(f"HELPDESK_{field.name.upper()}")
            if value is not None and value != "":
                raw[field.name] = value
        try:
            return msgspec.convert(raw, cls, strict=False)
        except msgspec.ValidationError as exc:
            raise ValueError(f"invalid HELPDESK_* setting: {exc}") from exc

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
