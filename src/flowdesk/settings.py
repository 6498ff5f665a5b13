"""Process-wide settings, read from the environment (FLOWDESK_*) or a `.env` file.

The embedded SQLite file under ./var/ is the default so `make run` works with nothing installed;
production sets FLOWDESK_DATABASE_URL to a PostgreSQL URL.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ImapMailbox(BaseModel):
    """One mailbox `flowdesk worker` takes customers' email from (docs/channels.md)."""

    name: str = "inbox"
    host: str
    port: int = Field(default=993, ge=1, le=65535)
    username: str
    password: SecretStr
    folder: str = "INBOX"
    ssl: bool = True
    idle_s: float = Field(default=300, gt=0, description="IDLE this long before checking again")
    poll_s: float = Field(default=60, gt=0, description="Poll interval without IDLE")
    timeout_s: float = Field(default=30, gt=0)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FLOWDESK_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///var/flowdesk.db",
        description="SQLAlchemy URL: sqlite:///path.db (default) or postgresql://user:pw@host/db",
    )
    sqlite_synchronous: Literal["OFF", "NORMAL", "FULL", "EXTRA"] = "NORMAL"
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0)
    group_commit: Literal["auto", "on", "off"] = Field(
        default="auto",
        description="Commands of concurrent requests share one transaction and COMMIT, each in "
        "a savepoint; auto: on for SQLite, off for PostgreSQL, where it measured slower "
        "(docs/scaling.md); off: one transaction per command",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_json: bool = False
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    load_demo: bool = True
    embedded_worker: bool = Field(
        default=True,
        description="`flowdesk serve` also runs worker rounds (timers, routing, case closing, "
        "surveys, notifications) in a background thread; off when separate `flowdesk worker` "
        "processes do that",
    )
    #: Session and form cookies only over HTTPS (set when users reach Flowdesk over TLS, as
    #: behind a TLS-terminating proxy); also turns on Strict-Transport-Security.
    cookie_secure: bool = False
    #: Addresses of the reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed
    #: (comma-separated IPs or CIDR ranges, or "*"); none by default: the peer is the client.
    trusted_proxies: str = ""
    # Status page: failed reference + identity checks allowed per client IP and per reference
    # within the window, before answers are 429 until the oldest failure leaves the window.
    status_max_failures: int = Field(default=5, ge=1)
    status_window_seconds: int = Field(default=900, ge=1)
    # Photos customers add on the status page (JPEG or PNG, checked and re-encoded).
    status_photo_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    company_file: str | None = Field(
        default=None,
        description="Company file (the demo company.yaml format) with SLA targets, OLAs and the "
        "scorecard the dashboards measure against; `flowdesk serve` uses the demo's when it "
        "loads the demo",
    )
    archive_dir: str | None = Field(
        default=None,
        description="Where `flowdesk archive` puts closed months of the event log (one Parquet "
        "file per month) and where mining and KPIs read them; default: `archive` next to the "
        "SQLite database, `var/archive` with PostgreSQL",
    )
    archive_every_hours: float = Field(
        default=0,
        ge=0,
        description="The worker rounds apply the event retention and archive closed months "
        "this often (0: off; run `flowdesk archive` from cron instead)",
    )
    api_key_cache_seconds: float = Field(
        default=30.0,
        ge=0,
        description="How long a verified API key is answered from memory (0: off); a key revoked "
        "in another process keeps working here for at most this long",
    )
    #: A contact stored raw and still not handled this long after it arrived (its process
    #: died) is handled again by the worker rounds; after `contact_attempts` tries, dead-lettered.
    contact_lease_seconds: float = Field(default=60, gt=0)
    contact_attempts: int = Field(default=3, ge=1)
    idempotency_retention_hours: float = Field(
        default=24.0, gt=0, description="How long Idempotency-Key answers are kept for replay"
    )

    # Back-office systems for the customer 360 (customers/connectors.py). FLOWDESK_BACKOFFICE_URL
    # serves every system below one base URL ({url}/crm/customers/{key}, /billing/..., /orders/...);
    # FLOWDESK_BACKOFFICE_SYSTEMS (JSON: name -> URL template with {key}) adds or replaces systems.
    backoffice_url: str | None = None
    backoffice_systems: dict[str, str] = Field(default_factory=dict)
    backoffice_timeout_s: float = Field(default=1.5, gt=0, le=30)
    backoffice_cache_ttl_s: float = Field(default=300, ge=0)
    backoffice_cache_size: int = Field(default=2000, ge=1)
    backoffice_failures_to_open: int = Field(default=3, ge=1)
    backoffice_cooldown_s: float = Field(default=30, ge=0)
    #: `flowdesk serve` with the demo starts the fake back-office on this port (0: any free one)
    #: unless a back-office is configured above.
    demo_backoffice: bool = True
    demo_backoffice_port: int = Field(default=0, ge=0, le=65535)
    #: ... and a local SMTP server and SMS/chat receivers that replies and notifications go to
    #: (listed on /outbox), unless senders are configured below (FLOWDESK_DEMO_OUTBOX).
    demo_outbox: bool = True

    # Outbound notifications sent by `flowdesk worker` (case updates, quiet-hours deferrals),
    # and agents' replies from the case page (which name the setting to set when unset).
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "service@flowdesk.invalid"
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = None
    #: Channel -> provider send URL for SMS, chat and app messages (JSON object).
    notify_webhooks: dict[str, str] = Field(default_factory=dict)

    # HTTP connector (flowdesk.connectors): camunda:connector http-connector and Zeebe's REST
    # connector task type, run by the worker rounds. Outbound addresses follow the webhook SSRF
    # policy (FLOWDESK_WEBHOOK_ALLOWED_NETWORKS).
    secrets: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Secrets for {{secrets.NAME}} placeholders in connector inputs (JSON object); "
        "FLOWDESK_SECRET_<NAME> variables add to it. Sent, never stored or logged",
    )
    connector_timeout_s: float = Field(
        default=10.0, gt=0, le=300, description="Default HTTP connector timeout per attempt"
    )
    connector_backoff_s: float = Field(
        default=5.0, ge=0, description="Wait before a failed connector call's first retry; doubles"
    )

    # Messaging providers (docs/channels.md). Twilio (SMS, and WhatsApp through Twilio): inbound
    # webhooks are checked against the Auth Token; replies go through the Messages API at
    # twilio_api_url. The public URL is the address providers call (behind a proxy it differs
    # from what the server sees; Twilio signs the URL it called).
    public_url: str | None = Field(
        default=None, description="Flowdesk's address as providers call it, e.g. https://x.org"
    )
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_api_url: str = "https://api.twilio.com"
    twilio_sms_from: str | None = Field(default=None, description="The Twilio SMS number")
    twilio_whatsapp_from: str | None = Field(
        default=None, description="The WhatsApp sender on Twilio (replies go through Twilio)"
    )
    # WhatsApp Business Cloud API (Meta): the verify token answers the subscription check, the
    # app secret checks X-Hub-Signature-256, the access token sends; outside the 24-hour window
    # the template (one body parameter: the text) goes instead of free text.
    whatsapp_verify_token: SecretStr | None = None
    whatsapp_app_secret: SecretStr | None = None
    whatsapp_access_token: SecretStr | None = None
    whatsapp_phone_number_id: str | None = None
    whatsapp_api_url: str = "https://graph.facebook.com/v19.0"
    whatsapp_template: str = "flowdesk_update"
    whatsapp_template_language: str = "en_US"
    # The chat widget (/static/web/chat-widget.js): its sessions are tokens signed with this
    # secret (set the same one on every process; unset: a random one per process). Set, it also
    # makes the widget the chat channel's sender unless FLOWDESK_NOTIFY_WEBHOOKS names another.
    chat_widget_secret: SecretStr | None = None
    #: Mailboxes `flowdesk worker` watches (IMAP, IDLE where the server has it), JSON list.
    imap_mailboxes: list[ImapMailbox] = Field(default_factory=list)
    chat_widget_origins: list[str] = Field(
        default_factory=list, description="Origins of pages that may embed the widget ('*': any)"
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
