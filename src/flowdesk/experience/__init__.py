"""Experience bundles: the catalog of contact reasons and, per user task, the agent's script,
knowledge, 360 panels, form, customer-facing status text and SLA (see docs/bundles.md)."""

from flowdesk.experience.bundle import Bundle
from flowdesk.experience.errors import BundleError, Issue
from flowdesk.experience.loader import load_bundle

__all__ = ["Bundle", "BundleError", "Issue", "load_bundle"]
