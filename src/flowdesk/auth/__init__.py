"""Users, roles, API keys and login sessions. Secrets are stored only as hashes."""
