"""SLA: business calendars, deadline arithmetic, policies, contracts and escalation."""
