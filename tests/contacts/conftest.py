"""Fixtures of the contacts tests: a store with demo flows deployed and an intake on it."""

from __future__ import annotations

import pytest

from flowdesk.channels.outbound import RecordingSender
from flowdesk.contacts.intake import Intake
from flowdesk.core.clock import FixedClock
from flowdesk.demo import COMPANY_DIR
from flowdesk.experience.service import deploy_bundle
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store

DEMO = COMPANY_DIR
BUNDLES = ("complaint", "billing-dispute", "outage-restoration")


@pytest.fixture
def runtime(store: Store, clock: FixedClock) -> ProcessRuntime:
    rt = ProcessRuntime(store, clock=clock)
    for name in BUNDLES:
        deploy_bundle(rt, store, DEMO / name)
    return rt


@pytest.fixture
def sender() -> RecordingSender:
    return RecordingSender()


@pytest.fixture
def intake(
    store: Store, runtime: ProcessRuntime, clock: FixedClock, sender: RecordingSender
) -> Intake:
    return Intake(
        store,
        runtime,
        clock=clock,
        senders={"email": sender, "sms": sender, "chat": sender},
        default_region="GB",
    )
