"""The situations' own worker loop: a commit reaches its action within milliseconds.

The general worker round runs a second apart (inside the server it must yield to requests), so
a situation raised by an event would wait up to that second for its consumer and its actions.
This loop ticks the consumer every few milliseconds instead; an idle tick costs one indexed
lookup of the log's head (`SituationConsumer.tick`), the state of rounds that plan no action is
written a quarter of a second later with the next ones, and the actions run when the consumer
planned some, or once a second for retries.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from flowdesk.situations.actions import ActionRunner
from flowdesk.situations.consumer import SituationConsumer

#: How long an idle loop sleeps between looks at the log's head (seconds).
EVERY = 0.005
#: A round that plans no action is written with a later one, at most this much later (seconds):
#: at hundreds of rounds a second, a write per round cost more than the matching.
SAVE_EVERY = 0.25


def run_situations(
    consumer: SituationConsumer,
    actions: ActionRunner,
    stop: threading.Event,
    *,
    every: float = EVERY,
    retry_every: float = 1.0,
    save_every: float = SAVE_EVERY,
    on_error: Callable[[Exception], None] | None = None,
) -> None:
    """Tick until `stop` is set; a failing tick is reported to `on_error` and retried."""
    consumer.save_every = save_every
    actions_at = 0.0
    while not stop.is_set():
        busy = 0
        try:
            changes = consumer.tick()
            now = time.monotonic()
            if changes or now - actions_at >= retry_every:
                actions_at = now
                busy = changes + actions.tick()
        except Exception as error:  # the loop must outlive a bad round (it is read again)
            if on_error is None:
                raise
            on_error(error)
            stop.wait(retry_every)
        if not busy:
            stop.wait(every)


def start_situations(
    consumer: SituationConsumer,
    actions: ActionRunner,
    *,
    stop: threading.Event | None = None,
    every: float = EVERY,
    on_error: Callable[[Exception], None] | None = None,
) -> threading.Event:
    """Run `run_situations` in a daemon thread until `stop` (or the returned event) is set."""
    stop = stop or threading.Event()
    threading.Thread(
        target=run_situations,
        args=(consumer, actions, stop),
        kwargs={"every": every, "on_error": on_error},
        name="flowdesk-situations",
        daemon=True,
    ).start()
    return stop
