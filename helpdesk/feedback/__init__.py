"""Customers' satisfaction ratings of resolved requests."""
