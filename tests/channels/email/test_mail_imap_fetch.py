"""IMAP fetch against a real, throwaway Dovecot: unseen mail stored once, marked done only after storing."""

from __future__ import annotations

import contextlib
import imaplib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from mailkit import make_mail
from sqlalchemy import func, select
from testing_support import REQUIRE_SERVICES, free_port

from helpdesk.channels.email.imap import add_mailbox, fetch_mailbox
from helpdesk.channels.email.jobs import fetch_all_mailboxes_job
from helpdesk.channels.email.models import InboundMail, Mailbox

pytestmark = pytest.mark.integration

USER, PASSWORD = "helpdesk", "secret"


@dataclass
class Dovecot:
    port: int
    maildir: Path
    uid: int
    gid: int

    def deliver(self, raw: bytes, name: str, folder: str = "") -> None:
        """Drop a message into the Maildir (``folder`` "" is INBOX), as an MTA's local delivery would."""
        base = self.maildir / (f".{folder}" if folder else "")
        for sub in ("new", "cur", "tmp"):
            (base / sub).mkdir(parents=True, exist_ok=True)
            os.chown(base / sub, self.uid, self.gid)
        os.chown(base, self.uid, self.gid)
        path = base / "new" / f"{time.time_ns()}.{name}.test"
        path.write_bytes(raw)
        os.chown(path, self.uid, self.gid)

    def client(self) -> imaplib.IMAP4:
        connection = imaplib.IMAP4("127.0.0.1", self.port)
        connection.login(USER, PASSWORD)
        return connection

    def flags(self, folder: str = "INBOX") -> list[str]:
        connection = self.client()
        try:
            _, [count] = connection.select(folder)
            if int(count or 0) == 0:
                return []
            _, data = connection.fetch("1:*", "(FLAGS)")
            return [item.decode() for item in data if item]
        finally:
            connection.logout()


def _users() -> tuple[str, str, int, int]:
    """(internal user, login user, mail uid, mail gid): Dovecot will not run its processes as root."""
    if os.getuid() != 0:
        me = pwd.getpwuid(os.getuid())
        return me.pw_name, me.pw_name, me.pw_uid, me.pw_gid
    dovecot = pwd.getpwnam("dovecot")
    return "dovecot", "dovenull", dovecot.pw_uid, dovecot.pw_gid


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    binary = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)
    if binary is None:
        if REQUIRE_SERVICES:
            pytest.fail("dovecot is not installed (apt-get install dovecot-imapd)")
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd)")
    root = Path(tempfile.mkdtemp(prefix="helpdesk-dovecot-"))
    root.chmod(0o755)  # the mail processes run as another user and must reach the Maildir
    internal, login, uid, gid = _users()
    home = root / "home" / USER
    (home / "Maildir").mkdir(parents=True)
    for path in (root / "home", home, home / "Maildir"):
        os.chown(path, uid, gid)
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    port = free_port()
    config = root / "dovecot.conf"
    config.write_text(f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
default_internal_user = {internal}
default_login_user = {login}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
mail_location = maildir:{root}/home/%u/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
""")
    process = subprocess.Popen(  # noqa: S603 - our own binary and config
        [binary, "-F", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    server = Dovecot(port=port, maildir=home / "Maildir", uid=uid, gid=gid)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                server.client().logout()
                break
            except (OSError, imaplib.IMAP4.error):
                if time.monotonic() > deadline or process.poll() is not None:
                    log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                    pytest.fail(f"dovecot did not start: {log[-2000:]}")
                time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
        if process.poll() is None:
            process.kill()
        shutil.rmtree(root, ignore_errors=True)


async def _stored(runtime) -> int:  # type: ignore[no-untyped-def]
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(InboundMail)) or 0)


async def test_unseen_mail_is_stored_once_and_flagged_after_storing_and_a_second_fetch_stores_nothing(
    runtime, dovecot
) -> None:  # type: ignore[no-untyped-def]
    dovecot.deliver(make_mail(message_id="<imap-1@example.com>", subject="One"), "one")
    dovecot.deliver(make_mail(message_id="<imap-2@example.com>", subject="Two"), "two")
    dovecot.deliver(make_mail(message_id="<imap-1@example.com>", subject="One, again"), "dup")
    mailbox = await add_mailbox(
        runtime, name="support", host="127.0.0.1", port=dovecot.port, security="plain",
        username=USER, password=PASSWORD,
    )  # fmt: skip

    assert await fetch_mailbox(runtime, mailbox.id) == 2  # the third is the first one delivered again
    assert await _stored(runtime) == 2
    assert all("\\Seen" in f and "\\Flagged" in f for f in dovecot.flags())
    assert await fetch_mailbox(runtime, mailbox.id) == 0
    assert await _stored(runtime) == 2
    await runtime.queue.drain()
    async with runtime.sessions() as session:
        rows = list(await session.scalars(select(InboundMail)))
        state = await session.get(Mailbox, mailbox.id)
    assert {(r.source, r.mailbox, r.status) for r in rows} == {("imap", "support", "processed")}
    assert state.last_error is None
    assert state.last_fetched_at is not None


async def test_a_mail_that_cannot_be_stored_stays_unseen_on_the_server(make_client, dovecot) -> None:  # type: ignore[no-untyped-def]
    async with make_client(max_inbound_mail_bytes=2000) as (_, runtime):
        dovecot.deliver(make_mail(subject="Big", body="x" * 5000), "big", folder="Big")
        mailbox = await add_mailbox(
            runtime, name="big", host="127.0.0.1", port=dovecot.port, security="plain",
            username=USER, password=PASSWORD, folder="Big",
        )  # fmt: skip
        assert await fetch_mailbox(runtime, mailbox.id) == 0
        assert await _stored(runtime) == 0
        assert all("\\Seen" not in f for f in dovecot.flags("Big"))
        async with runtime.sessions() as session:
            assert "left on the server" in (await session.get(Mailbox, mailbox.id)).last_error


async def test_the_cron_fetches_every_enabled_mailbox_and_moves_processed_mail(runtime, dovecot) -> None:  # type: ignore[no-untyped-def]
    dovecot.deliver(make_mail(message_id="<imap-move@example.com>"), "move", folder="Moving")
    dovecot.deliver(b"", "placeholder", folder="Done")  # creates the target folder
    mailbox = await add_mailbox(
        runtime, name="moving", host="127.0.0.1", port=dovecot.port, security="plain", username=USER,
        password=PASSWORD, folder="Moving", processed_action="move", processed_folder="Done",
    )  # fmt: skip
    await add_mailbox(
        runtime,
        name="off",
        host="127.0.0.1",
        port=1,
        security="plain",
        username="x",
        password="y",
        enabled=False,
    )
    assert await fetch_all_mailboxes_job({"runtime": runtime}) == 1
    await runtime.queue.drain()
    async with runtime.sessions() as session:
        stored = await session.scalar(
            select(InboundMail).where(InboundMail.message_id == "<imap-move@example.com>")
        )
        state = await session.get(Mailbox, mailbox.id)
    assert stored is not None, state.last_error
    assert dovecot.flags("Moving") == []
    assert len(dovecot.flags("Done")) == 2
