"""What every domain shares: database base and session, settings, clock, domain errors, job queue."""
