"""Staff users, roles, groups (queues), sessions, API tokens and customer magic links."""
