"""Process-wide settings, read from the environment (FLOWDESK_*) or a `.env` file.

The embedded SQLite file under ./var/ is the default so `make run` works with nothing installed;
production sets FLOWDESK_DATABASE_URL to a PostgreSQL URL.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FLOWDESK_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///var/flowdesk.db",
        description="SQLAlchemy URL: sqlite:///path.db (default) or postgresql://user:pw@host/db",
    )
    sqlite_synchronous: Literal["OFF", "NORMAL", "FULL", "EXTRA"] = "NORMAL"
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_json: bool = False
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    load_demo: bool = True


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
