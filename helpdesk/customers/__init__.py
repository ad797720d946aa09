"""Organisations and their contacts (customers)."""
