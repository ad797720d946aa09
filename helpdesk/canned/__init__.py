"""Canned responses: reusable reply texts, shared by the desk or personal to an agent."""
