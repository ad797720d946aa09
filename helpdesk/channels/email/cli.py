"""``helpdesk mail ...`` commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click


@click.group("mail")
def mail_group() -> None:
    """E-mail channel: parse, ingest, listen."""


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
