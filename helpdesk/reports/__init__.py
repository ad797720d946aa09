"""Managers' reports: SLA breaches and warnings, compliance per target, CSV exports."""
