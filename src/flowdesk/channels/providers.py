"""The messaging providers' senders the settings configure: Twilio for SMS (and WhatsApp when a
Twilio WhatsApp sender is set), else the WhatsApp Cloud API for WhatsApp. They replace the
plain JSON webhook of the same channel (FLOWDESK_NOTIFY_WEBHOOKS)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select

from flowdesk.channels.chat_widget import WidgetSender
from flowdesk.channels.outbound import Sender
from flowdesk.channels.twilio import TwilioSender
from flowdesk.channels.whatsapp import WhatsAppCloudSender
from flowdesk.contacts.models import contacts
from flowdesk.core.clock import Clock, SystemClock
from flowdesk.store import Store


def _secret(value: Any) -> str:
    return str(value.get_secret_value()) if value is not None else ""


def last_inbound(store: Store, channel: str) -> Callable[[str], datetime | None]:
    """When a number last wrote on a channel (the WhatsApp 24-hour window opens then)."""

    def when(address: str) -> datetime | None:
        wanted = "+" + address.lstrip("+")
        with store.reading() as conn:
            found = conn.execute(
                select(func.max(contacts.c.received_at)).where(
                    and_(
                        contacts.c.channel == channel,
                        contacts.c.direction == "in",
                        contacts.c.sender.in_((wanted, wanted[1:])),
                    )
                )
            ).scalar()
        return found if isinstance(found, datetime) else None

    return when


def provider_senders(
    settings: Any, *, store: Store | None = None, clock: Clock | None = None
) -> dict[str, Sender]:
    senders: dict[str, Sender] = {}
    webhooks = getattr(settings, "notify_webhooks", None) or {}
    if getattr(settings, "chat_widget_secret", None) and "chat" not in webhooks:
        senders["chat"] = WidgetSender()  # replies wait for the chat widget to fetch them
    sid = getattr(settings, "twilio_account_sid", None)
    token = _secret(getattr(settings, "twilio_auth_token", None))
    public = (getattr(settings, "public_url", None) or "").rstrip("/")
    callback = f"{public}/api/v1/providers/twilio/status" if public else None
    if sid and token:
        for channel, number in (
            ("sms", settings.twilio_sms_from),
            ("whatsapp", settings.twilio_whatsapp_from),
        ):
            if number:
                senders[channel] = TwilioSender(
                    account_sid=sid,
                    auth_token=token,
                    from_number=number,
                    whatsapp=channel == "whatsapp",
                    base_url=settings.twilio_api_url,
                    status_callback=callback,
                )
    number_id = getattr(settings, "whatsapp_phone_number_id", None)
    access = _secret(getattr(settings, "whatsapp_access_token", None))
    if "whatsapp" not in senders and number_id and access:
        clock = clock or SystemClock()
        senders["whatsapp"] = WhatsAppCloudSender(
            phone_number_id=number_id,
            access_token=access,
            template=settings.whatsapp_template,
            template_language=settings.whatsapp_template_language,
            base_url=settings.whatsapp_api_url,
            last_inbound=last_inbound(store, "whatsapp") if store is not None else None,
            now=clock.now,
        )
    return senders
