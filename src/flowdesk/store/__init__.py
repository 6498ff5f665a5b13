"""Persistence: SQLite (embedded default) and PostgreSQL (production) behind one Store.

Only this package imports SQLAlchemy (an import-linter contract enforces it).
"""

from flowdesk.store.store import Store, UnitOfWork

__all__ = ["Store", "UnitOfWork"]
