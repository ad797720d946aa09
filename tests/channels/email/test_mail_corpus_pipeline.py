"""Every corpus message goes through store + process: each becomes a ticket, a reply/follow-up or a flag."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from helpdesk.channels.email.models import InboundMail, InboundSource
from helpdesk.channels.email.service import MailService

CORPORA = Path(__file__).resolve().parents[4] / "shared" / "corpora" / "email"

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not CORPORA.is_dir(), reason=f"mail corpora not present at {CORPORA}"),
]

OUTCOMES = {"new_ticket", "reply", "follow_up", "bounce", "auto_reply", "flagged"}


def _files() -> list[Path]:
    patterns = (
        "python-stdlib/*.txt",
        "flanker/**/*.eml",
        "mail-parser/mails/*",
        "talon/**/*.eml",
        "thunderbird/*.eml",
    )
    return sorted(p for pattern in patterns for p in CORPORA.glob(pattern) if p.is_file())


async def test_every_corpus_message_becomes_a_ticket_a_reply_or_a_flag_and_none_is_lost(runtime) -> None:  # type: ignore[no-untyped-def]
    service = MailService(runtime)
    files = _files()
    assert len(files) >= 130
    results: dict[str, str] = {}
    ids: set[int] = set()
    for path in files:
        stored = await service.store(path.read_bytes(), InboundSource.PIPE, enqueue=False)
        ids.add(stored.id)
        if stored.created:
            results[str(path.relative_to(CORPORA))] = await service.process(stored.id)
    unexpected = {name: outcome for name, outcome in results.items() if outcome not in OUTCOMES}
    assert unexpected == {}
    async with runtime.sessions() as session:
        statuses = dict(
            (
                await session.execute(select(InboundMail.status, func.count()).group_by(InboundMail.status))
            ).all()
        )
    assert set(statuses) <= {"processed", "flagged"}
    assert sum(statuses.values()) == len(ids)  # one row per distinct mail: duplicates by Message-ID merged
    assert statuses.get("processed", 0) > len(ids) // 2
    bounces = [name for name, outcome in results.items() if name.startswith("flanker/bounce")]
    assert bounces  # flanker's bounces went through too (flagged: they answer mail we never sent)
