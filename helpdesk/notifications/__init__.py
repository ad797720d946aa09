"""Outgoing mail: written to an outbox table with the event, sent by an idempotent job after commit."""
