"""Drives the pure engine against the store: bootstrap, jobs, timers, message correlation."""
