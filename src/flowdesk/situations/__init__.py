"""Situations: event patterns (`flowdesk.cep`) run durably over the event log, and what they do.

The consumer (`consumer.SituationConsumer`) reads the log with its own cursor, keeps the
patterns' partitions and the situations in tables, and moves its cursor in the same transaction
as that state, so a restart (even kill -9) resumes exactly where the last commit left it. Its
actions are rows keyed by situation id (and customer), run once each (`actions.py`)."""
