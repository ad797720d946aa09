"""``helpdesk mail ...`` commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click


@click.group("mail")
def mail_group() -> None:
    """E-mail channel: parse, ingest, listen, process, mailboxes."""


def parsed_mail_summary(raw: bytes) -> dict[str, Any]:
    """The operator's view of one parsed mail as JSON-ready data (attachments without their bytes)."""
    from helpdesk.channels.email.parser import parse_message

    mail = parse_message(raw)
    report = mail.bounce_report
    return {
        "from": {"address": mail.from_address, "name": mail.from_name},
        "to": [{"address": a.address, "name": a.name} for a in mail.to],
        "cc": [{"address": a.address, "name": a.name} for a in mail.cc],
        "reply_to": [{"address": a.address, "name": a.name} for a in mail.reply_to],
        "subject": mail.subject,
        "message_id": mail.message_id,
        "in_reply_to": mail.in_reply_to,
        "references": mail.references,
        "date": mail.date.isoformat() if mail.date else None,
        "body_text": mail.body_text,
        "body_html": mail.body_html,
        "reply_text": mail.reply_text,
        "attachments": [
            {
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "content_id": a.content_id,
                "inline": a.inline,
                "sha256": a.sha256,
                "kept": a.content is not None,
                "skipped_reason": a.skipped_reason,
            }
            for a in mail.attachments
        ],
        "flags": {
            "auto_submitted": mail.auto_submitted,
            "bounce": mail.bounce,
            "out_of_office": mail.out_of_office,
            "unparseable": mail.unparseable,
            "truncated": mail.truncated,
        },
        "auto_reasons": mail.auto_reasons,
        "bounce_report": None
        if report is None
        else {
            "original_message_id": report.original_message_id,
            "original_references": report.original_references,
            "permanent": report.permanent,
            "source": report.source,
            "recipients": [
                {"address": r.address, "action": r.action, "status": r.status, "diagnostic": r.diagnostic}
                for r in report.recipients
            ],
        },
        "defects": mail.defects,
    }


@mail_group.command("parse")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the whole parse result as JSON.")
def parse_command(file: Path, as_json: bool) -> None:
    """Parse a raw message FILE (.eml) and show what the help desk sees in it.

    Exits 0 for any file that exists, unparseable mail included (its flag says so), and 2 when FILE does
    not exist or cannot be read.
    """
    try:
        raw = file.read_bytes()
    except OSError as error:
        click.echo(f"cannot read {file}: {error.strerror or error}", err=True)
        raise click.exceptions.Exit(2) from error
    summary = parsed_mail_summary(raw)
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False, indent=2))
        return
    flags = [name for name, value in summary["flags"].items() if value]
    click.echo(f"From:     {summary['from']['name']} <{summary['from']['address']}>")
    click.echo(f"Subject:  {summary['subject']}")
    click.echo(f"Date:     {summary['date']}")
    click.echo(f"Flags:    {', '.join(flags) or '-'}")
    click.echo(f"Files:    {len(summary['attachments'])}")
    for defect in summary["defects"]:
        click.echo(f"Defect:   {defect}")
    click.echo("")
    click.echo(summary["reply_text"])


# Exit codes of `helpdesk mail ingest`, from sysexits.h: MTAs bounce on 65 and retry later on 75.
EXIT_STORED = 0
EXIT_TOO_LARGE = 65  # EX_DATAERR: the sender gets a bounce
EXIT_NO_INPUT = 66  # EX_NOINPUT: FILE cannot be read
EXIT_TEMPORARY = 75  # EX_TEMPFAIL: the database is unreachable; the MTA keeps the mail and retries


@mail_group.command("ingest")
@click.argument("file", default="-")
def ingest_command(file: str) -> None:
    """Store one RFC 822 message from FILE or standard input (an MTA's pipe transport) and print its id.

    The message is processed by a worker (with HELPDESK_REDIS_URL) or right here before exiting (without).
    Exit codes: 0 stored (or stored before: the same id is printed), 65 larger than
    HELPDESK_MAX_INBOUND_MAIL_BYTES, 66 FILE unreadable, 75 temporary failure (the MTA should retry).
    """
    import asyncio
    import sys

    try:
        raw = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    except OSError as error:
        click.echo(f"cannot read {file}: {error.strerror or error}", err=True)
        raise click.exceptions.Exit(EXIT_NO_INPUT) from error
    code = asyncio.run(_ingest(raw))
    if code:
        raise click.exceptions.Exit(code)


async def _ingest(raw: bytes) -> int:
    from helpdesk.channels.email.models import InboundSource
    from helpdesk.channels.email.service import MailService
    from helpdesk.core.errors import TooLarge
    from helpdesk.core.queue import InProcessJobQueue
    from helpdesk.core.settings import Settings
    from helpdesk.runtime import start_runtime, stop_runtime

    try:
        runtime = await start_runtime(Settings.from_env())
    except Exception as error:
        click.echo(f"cannot start: {error}", err=True)
        return EXIT_TEMPORARY
    try:
        stored = await MailService(runtime).store(raw, InboundSource.PIPE, mailbox="pipe")
        if isinstance(runtime.queue, InProcessJobQueue):
            await runtime.queue.drain(seconds=300)
    except TooLarge as error:
        click.echo(error.detail, err=True)
        return EXIT_TOO_LARGE
    except Exception as error:
        click.echo(f"cannot store the message now: {type(error).__name__}: {error}", err=True)
        return EXIT_TEMPORARY
    finally:
        await stop_runtime(runtime)
    click.echo(f"{stored.id}{'' if stored.created else ' (stored before)'}")
    return EXIT_STORED


@mail_group.command("listen")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=2525, show_default=True, type=int)
@click.option("--lmtp", is_flag=True, help="Speak LMTP instead of SMTP (for a local MTA's lmtp transport).")
def listen_command(host: str, port: int, lmtp: bool) -> None:
    """Receive mail over SMTP/LMTP from an MTA: each message is stored before it is accepted (250)."""
    import asyncio

    asyncio.run(_listen(host, port, lmtp))


async def _listen(host: str, port: int, lmtp: bool) -> None:
    import asyncio
    import signal

    from helpdesk.channels.email.listener import serve_smtp
    from helpdesk.core.settings import Settings
    from helpdesk.runtime import start_runtime, stop_runtime

    runtime = await start_runtime(Settings.from_env())
    server = await serve_smtp(runtime, host, port, lmtp=lmtp)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    click.echo(f"listening for {'LMTP' if lmtp else 'SMTP'} on {host}:{port}")
    try:
        await stop.wait()
    finally:
        server.close()
        await server.wait_closed()
        await stop_runtime(runtime)


@mail_group.command("process")
@click.argument("inbound_ids", type=int, nargs=-1, required=True)
def process_command(inbound_ids: tuple[int, ...]) -> None:
    """Process stored mails now, in one batch (again, after fixing the cause of a failure: reset them to
    pending first). Prints one outcome per mail; with one id, just the outcome."""
    import asyncio

    outcomes = asyncio.run(_with_runtime(lambda runtime: _process(runtime, list(inbound_ids))))
    if len(inbound_ids) == 1:
        click.echo(outcomes[inbound_ids[0]])
        return
    for inbound_id in inbound_ids:
        click.echo(f"{inbound_id} {outcomes[inbound_id]}")


async def _process(runtime: Any, inbound_ids: list[int]) -> dict[int, str]:
    from helpdesk.channels.email.service import MailService

    return await MailService(runtime).process_batch(inbound_ids)


@mail_group.group("mailbox")
def mailbox_group() -> None:
    """IMAP mailboxes the worker fetches from."""


@mailbox_group.command("add")
@click.option("--name", required=True)
@click.option("--host", required=True)
@click.option("--port", type=int, default=993, show_default=True)
@click.option("--security", type=click.Choice(["tls", "starttls", "plain"]), default="tls", show_default=True)
@click.option("--user", "username", required=True)
@click.option("--password", prompt=True, hide_input=True, help="Stored as given: use a dedicated account.")
@click.option("--folder", default="INBOX", show_default=True)
@click.option("--move-to", default=None, help="Move processed mail to this folder (default: flag it).")
def mailbox_add(
    name: str,
    host: str,
    port: int,
    security: str,
    username: str,
    password: str,
    folder: str,
    move_to: str | None,
) -> None:
    """Add a mailbox; the worker fetches its unseen mail every minute."""
    import asyncio

    from helpdesk.channels.email.imap import add_mailbox

    mailbox = asyncio.run(
        _with_runtime(
            lambda runtime: add_mailbox(
                runtime,
                name=name,
                host=host,
                port=port,
                username=username,
                password=password,
                security=security,
                folder=folder,
                processed_action="move" if move_to else "flag",
                processed_folder=move_to,
            )
        )
    )
    click.echo(f"mailbox {mailbox.name} added (id {mailbox.id})")


@mailbox_group.command("fetch")
@click.argument("mailbox_id", type=int)
def mailbox_fetch(mailbox_id: int) -> None:
    """Fetch one mailbox now and print how many new mails were stored."""
    import asyncio

    from helpdesk.channels.email.imap import fetch_mailbox

    click.echo(asyncio.run(_with_runtime(lambda runtime: fetch_mailbox(runtime, mailbox_id))))


async def _with_runtime(action: Any) -> Any:
    from helpdesk.core.queue import InProcessJobQueue
    from helpdesk.core.settings import Settings
    from helpdesk.runtime import start_runtime, stop_runtime

    runtime = await start_runtime(Settings.from_env())
    try:
        result = await action(runtime)
        if isinstance(runtime.queue, InProcessJobQueue):
            await runtime.queue.drain(seconds=300)
        return result
    finally:
        await stop_runtime(runtime)
