"""Connectors: service tasks that call back-office systems from the model alone (no code)."""
