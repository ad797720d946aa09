"""Tickets, their conversation, attachments and audit trail."""
