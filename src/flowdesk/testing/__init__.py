"""Helpers for Flowdesk's own tests and benchmarks (real servers, not mocks)."""
