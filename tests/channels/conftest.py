"""The same intake fixtures as the contacts tests (a store with demo flows and an intake)."""

from tests.contacts.conftest import intake, runtime, sender

__all__ = ["intake", "runtime", "sender"]
