"""Webhooks: subscriptions by event type, delivery of event-log entries as signed CloudEvents.

subscriptions.create(store, clock, url=..., event_types=["process.*"], secret=...)
Deliverer(store).deliver_once()      # what the server's background loop runs
"""
