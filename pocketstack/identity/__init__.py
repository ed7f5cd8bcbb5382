"""The identity service: Keystone v3 (users, projects, roles, tokens, the catalog)."""
