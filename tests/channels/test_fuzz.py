"""Whatever bytes arrive, adapters answer with InvalidContactError or a draft, nothing else."""

from __future__ import annotations

import contextlib
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from flowdesk.channels.email_in import parse_email
from flowdesk.channels.payloads import PARSERS, parse_payload
from flowdesk.contacts.errors import InvalidContactError

HEADERS = st.sampled_from(
    [
        b"From: ",
        b"To: ",
        b"Subject: ",
        b"Content-Type: ",
        b"MIME-Version: 1.0",
        b"Message-ID: ",
        b"In-Reply-To: ",
        b"Content-Transfer-Encoding: ",
        b"Content-Disposition: attachment; ",
    ]
)
JUNK = st.binary(max_size=60)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(HEADERS, JUNK), max_size=8), st.binary(max_size=300))
def test_email_bytes_never_raise_anything_else(
    headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    raw = b"\r\n".join(h + v for h, v in headers) + b"\r\n\r\n" + body
    with contextlib.suppress(InvalidContactError):
        parse_email(raw)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=10,
)
FIELDS = st.sampled_from(
    [
        "email",
        "phone",
        "from",
        "text",
        "message",
        "event",
        "call_id",
        "caller",
        "session_id",
        "network",
        "handle",
        "scan",
        "photo",
        "geo",
        "agent",
        "notes",
        "customer",
        "reason",
        "device_id",
        "ivr_choice",
        "case_reference",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(PARSERS)), st.dictionaries(FIELDS, JSON_VALUES, max_size=8))
def test_json_payloads_never_raise_anything_else(channel: str, payload: dict[str, object]) -> None:
    with contextlib.suppress(InvalidContactError):
        parse_payload(channel, json.dumps(payload).encode())
