"""The routing engine: one queue for every channel, push offers and pull, in memory and pure.

Work is grouped into routing classes (same channel, required skills, language, department,
candidate groups/users); each class keeps a heap ordered by the aging-aware rank of
`priority.PriorityPolicy`, and each agent knows the classes it may serve. A pull looks at the
top of each of the agent's classes (tens, not 100,000 items); a push takes the class with the
most urgent top item and offers it to the best ready agent of that class. Heaps use lazy
deletion: an entry whose item version changed is dropped when it reaches the top.

Time is always passed in (`now`), so the engine is deterministic under test.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flowdesk.routing.domain import (
    Agent,
    ClassKey,
    Item,
    Offer,
    Presence,
    RoutingError,
    Transfer,
)
from flowdesk.routing.priority import PriorityPolicy

_Entry = tuple[float, int, str, int]  # rank, tie-break, item id, item version


@dataclass
class _Class:
    key: ClassKey
    heap: list[_Entry] = field(default_factory=list)
    agents: set[str] = field(default_factory=set)
    size: int = 0  # queued items (exact, unlike len(heap))


class RoutingEngine:
    def __init__(
        self,
        policy: PriorityPolicy | None = None,
        *,
        accept_timeout: timedelta = timedelta(seconds=30),
        new_id: Callable[[], str] | None = None,
    ) -> None:
        self.policy = policy or PriorityPolicy()
        self.accept_timeout = accept_timeout
        counter = itertools.count(1)
        self._new_id = new_id or (lambda: f"offer-{next(counter)}")
        self.agents: dict[str, Agent] = {}
        self.items: dict[str, Item] = {}
        self.offers: dict[str, Offer] = {}
        self._classes: dict[ClassKey, _Class] = {}
        self._agent_classes: dict[str, list[_Class]] = {}
        self._reviews: list[tuple[datetime, int, str, int]] = []
        self._offer_expiry: list[tuple[datetime, str]] = []
        self._tie = itertools.count()

    # -- agents -------------------------------------------------------------------------------
    def upsert_agent(self, agent: Agent) -> Agent:
        old = self.agents.get(agent.id)
        if old is not None:
            agent.load = old.load
            agent.pending_offer = old.pending_offer
            agent.idle_since = agent.idle_since or old.idle_since
            for cls in self._agent_classes.get(agent.id, []):
                cls.agents.discard(agent.id)
        self.agents[agent.id] = agent
        mine = [c for c in self._classes.values() if agent.serves(c.key)]
        for cls in mine:
            cls.agents.add(agent.id)
        self._agent_classes[agent.id] = mine
        return agent

    def set_presence(self, agent_id: str, presence: Presence, now: datetime) -> None:
        agent = self._agent(agent_id)
        if presence is Presence.AVAILABLE and agent.presence is not Presence.AVAILABLE:
            agent.idle_since = now
        agent.presence = presence

    def _agent(self, agent_id: str) -> Agent:
        agent = self.agents.get(agent_id)
        if agent is None:
            raise RoutingError(f"no agent {agent_id!r}", hint="register the agent first")
        return agent

    def _class(self, key: ClassKey) -> _Class:
        cls = self._classes.get(key)
        if cls is None:
            cls = self._classes[key] = _Class(key)
            for agent in self.agents.values():
                if agent.serves(key):
                    cls.agents.add(agent.id)
                    self._agent_classes[agent.id].append(cls)
        return cls

    # -- queue --------------------------------------------------------------------------------
    def enqueue(self, item: Item, now: datetime, *, base: float | None = None) -> Item:
        """Queue new work (or re-queue it). Idempotent on the item id while it is queued.
        `base` skips evaluating the priority (it was computed before, e.g. stored)."""
        existing = self.items.get(item.id)
        if existing is not None and existing.state != "closed":
            return existing
        item.state, item.agent = "queued", None
        self.items[item.id] = item
        self._push(item, now, base)
        return item

    def _push(self, item: Item, now: datetime, base: float | None = None) -> None:
        item.version += 1
        if base is None:
            base = self.policy.base(item, now)
        item.score = base
        item.rank = self.policy.rank(base, item)
        cls = self._class(item.key)
        heapq.heappush(cls.heap, (item.rank, next(self._tie), item.id, item.version))
        cls.size += 1
        review = self.policy.next_review(item, now)
        if review is not None:
            heapq.heappush(self._reviews, (review, next(self._tie), item.id, item.version))

    def _unqueue(self, item: Item) -> None:
        if item.state == "queued":
            self._classes[item.key].size -= 1
        item.version += 1  # heap entries become stale

    def _top(self, cls: _Class) -> Item | None:
        heap = cls.heap
        while heap:
            _, _, item_id, version = heap[0]
            item = self.items.get(item_id)
            if item is not None and item.version == version and item.state == "queued":
                return item
            heapq.heappop(heap)
        return None

    def _best_in(self, cls: _Class, agent_id: str, depth: int = 64) -> Item | None:
        """The top item of a class that `agent_id` has not declined (looks a few deep)."""
        top = self._top(cls)
        if top is None or agent_id not in top.excluded:
            return top
        for _, _, item_id, version in heapq.nsmallest(depth, cls.heap):
            item = self.items.get(item_id)
            if item is None or item.version != version or item.state != "queued":
                continue
            if agent_id not in item.excluded:
                return item
        return None

    def review(self, now: datetime) -> int:
        """Re-score items whose SLA time left crossed a review point; returns how many."""
        count = 0
        while self._reviews and self._reviews[0][0] <= now:
            _, _, item_id, version = heapq.heappop(self._reviews)
            item = self.items.get(item_id)
            if item is None or item.version != version or item.state != "queued":
                continue
            self._classes[item.key].size -= 1
            self._push(item, now)
            count += 1
        return count

    def bump(self, item_id: str, by: float, now: datetime) -> None:
        """Raise an item's priority (an SLA escalation)."""
        item = self._item(item_id)
        item.boost += by
        if item.state == "queued":
            self._unqueue(item)
            self._push(item, now)

    def close(self, item_id: str) -> Item | None:
        """The work is done or cancelled: leave the queue and free the agent's capacity."""
        item = self.items.pop(item_id, None)
        if item is None:
            return None
        if item.state == "offered":
            self._drop_offer_of(item)
        self._unqueue(item)
        self._release(item)
        item.state = "closed"
        return item

    def _release(self, item: Item) -> None:
        if item.agent is None:
            return
        agent = self.agents.get(item.agent)
        if agent is not None and agent.load.get(item.channel, 0) > 0:
            agent.load[item.channel] -= 1
        item.agent = None

    def _item(self, item_id: str) -> Item:
        item = self.items.get(item_id)
        if item is None:
            raise RoutingError(f"no work item {item_id!r} in the queue")
        return item

    # -- pull ---------------------------------------------------------------------------------
    def _ready(self, agent: Agent) -> bool:
        return agent.presence is Presence.AVAILABLE

    def next_for(self, agent_id: str, now: datetime) -> Item | None:
        """The next best work item for this agent (not taken)."""
        agent = self._agent(agent_id)
        if not self._ready(agent):
            return None
        best: Item | None = None
        fits = {channel: agent.fits(channel) for channel in agent.capacity}
        for cls in self._agent_classes.get(agent_id, ()):
            if not cls.size or not fits.get(cls.key[0]):
                continue
            item = self._best_in(cls, agent_id)
            if item is not None and (best is None or item.rank < best.rank):
                best = item
        return best

    def pull(self, agent_id: str, now: datetime) -> Item | None:
        """Assign the agent's next best work item to them."""
        item = self.next_for(agent_id, now)
        if item is not None:
            self._assign(item, self.agents[agent_id], now)
        return item

    def _assign(self, item: Item, agent: Agent, now: datetime) -> None:
        self._unqueue(item)
        item.state, item.agent = "assigned", agent.id
        agent.load[item.channel] = agent.load.get(item.channel, 0) + 1
        agent.idle_since = now

    def assign_to(self, item_id: str, agent_id: str, now: datetime) -> Item:
        """Direct assignment (a supervisor's reassignment, or a claimed task)."""
        item, agent = self._item(item_id), self._agent(agent_id)
        if item.state == "offered":
            self._drop_offer_of(item)
        if item.state == "assigned":
            self._release(item)
            item.state = "queued"
            self._classes[item.key].size += 1
        self._assign(item, agent, now)
        return item

    # -- push ---------------------------------------------------------------------------------
    def _best_agent(self, cls: _Class, item: Item, ready: set[str]) -> Agent | None:
        """Among the ready agents of the class: highest skill levels, then least loaded, then
        longest idle."""
        best: Agent | None = None
        best_key: tuple[int, float, datetime | None] | None = None
        skills = cls.key[1]
        channel = cls.key[0]
        for agent_id in ready & cls.agents:
            agent = self.agents[agent_id]
            if agent_id in item.excluded or not agent.fits(channel):
                continue
            key = (-agent.level(skills), agent.utilisation(), agent.idle_since)
            if best_key is None or _before(key, best_key):
                best, best_key = agent, key
        return best

    def ready_agents(self, among: Iterable[str] | None = None) -> set[str]:
        """Agents that can receive an offer now: available, no open offer, capacity left."""
        pool = self.agents.values() if among is None else (self.agents[a] for a in among)
        return {
            a.id
            for a in pool
            if a.presence is Presence.AVAILABLE
            and a.pending_offer is None
            and any(a.fits(c) for c in a.capacity)
        }

    def dispatch(
        self, now: datetime, limit: int | None = None, *, ready: set[str] | None = None
    ) -> list[Offer]:
        """Offer the most urgent work to the best ready agents; an agent holds one offer at a
        time and its capacity is reserved until it accepts, declines or the offer expires.
        Only classes that a ready agent serves are looked at. `ready` narrows the agents (e.g.
        the one who just freed capacity); by default every ready agent is considered."""
        self.expire(now)
        self.review(now)
        offers: list[Offer] = []
        ready = self.ready_agents(None if ready is None else [a for a in ready if a in self.agents])
        classes: dict[int, _Class] = {}
        for agent_id in ready:
            for cls in self._agent_classes.get(agent_id, ()):
                if cls.size:
                    classes[id(cls)] = cls
        tops: list[tuple[float, int, _Class]] = []
        for cls in classes.values():
            item = self._top(cls)
            if item is not None:
                tops.append((item.rank, next(self._tie), cls))
        heapq.heapify(tops)
        deferred: list[tuple[Item, _Class]] = []
        while tops and ready and (limit is None or len(offers) < limit):
            _, _, cls = heapq.heappop(tops)
            item = self._top(cls)
            if item is None:
                continue
            agent = self._best_agent(cls, item, ready)
            if agent is None:
                if not item.excluded:
                    continue  # nobody ready for this class now
                # everyone ready declined this one: let the class's next item through
                self._unqueue(item)
                item.state = "deferred"
                deferred.append((item, cls))
            else:
                offers.append(self._offer(item, agent, now))
                ready.discard(agent.id)
            nxt = self._top(cls)
            if nxt is not None:
                heapq.heappush(tops, (nxt.rank, next(self._tie), cls))
        for item, _cls in deferred:
            item.state = "queued"
            self._push(item, now)
        return offers

    def offer(self, item_id: str, agent_id: str, now: datetime) -> Offer:
        item, agent = self._item(item_id), self._agent(agent_id)
        if item.state != "queued":
            raise RoutingError(f"work item {item_id} is {item.state}, not queued")
        if agent.pending_offer is not None or not agent.fits(item.channel):
            raise RoutingError(f"agent {agent_id} cannot take an offer now")
        return self._offer(item, agent, now)

    def _offer(self, item: Item, agent: Agent, now: datetime) -> Offer:
        offer = Offer(self._new_id(), item.id, agent.id, now, now + self.accept_timeout)
        self._unqueue(item)
        item.state, item.agent = "offered", agent.id
        agent.load[item.channel] = agent.load.get(item.channel, 0) + 1  # reserved
        agent.pending_offer = offer.id
        self.offers[offer.id] = offer
        heapq.heappush(self._offer_expiry, (offer.expires_at, offer.id))
        return offer

    def accept(self, offer_id: str, agent_id: str, now: datetime) -> Item:
        offer = self.offers.get(offer_id)
        if offer is None or offer.agent_id != agent_id:
            raise RoutingError(
                f"no open offer {offer_id!r} for {agent_id}", hint="it may have expired"
            )
        if now >= offer.expires_at:
            self.expire(now)
            raise RoutingError(f"offer {offer_id} expired at {offer.expires_at.isoformat()}")
        del self.offers[offer_id]
        item = self.items[offer.item_id]
        agent = self.agents[agent_id]
        agent.pending_offer = None
        item.state = "assigned"
        agent.idle_since = now
        return item

    def decline(self, offer_id: str, agent_id: str, now: datetime) -> Item:
        offer = self.offers.get(offer_id)
        if offer is None or offer.agent_id != agent_id:
            raise RoutingError(f"no open offer {offer_id!r} for {agent_id}")
        return self._requeue_offer(offer, now)

    def expire(self, now: datetime) -> list[Offer]:
        """Offers not accepted in time go back to the queue, for the next agent."""
        expired: list[Offer] = []
        while self._offer_expiry and self._offer_expiry[0][0] <= now:
            _, offer_id = heapq.heappop(self._offer_expiry)
            offer = self.offers.get(offer_id)
            if offer is not None:
                self._requeue_offer(offer, now)
                expired.append(offer)
        return expired

    def _requeue_offer(self, offer: Offer, now: datetime) -> Item:
        del self.offers[offer.id]
        item = self.items[offer.item_id]
        agent = self.agents.get(offer.agent_id)
        if agent is not None and agent.pending_offer == offer.id:
            agent.pending_offer = None
        self._release(item)
        item.excluded.add(offer.agent_id)
        item.state = "queued"
        self._push(item, now)
        return item

    def _drop_offer_of(self, item: Item) -> None:
        for offer in [o for o in self.offers.values() if o.item_id == item.id]:
            del self.offers[offer.id]
            agent = self.agents.get(offer.agent_id)
            if agent is not None and agent.pending_offer == offer.id:
                agent.pending_offer = None

    # -- transfers ----------------------------------------------------------------------------
    def transfer(
        self,
        item_id: str,
        now: datetime,
        *,
        reason: str,
        department: str | None = None,
        skills: dict[str, int] | None = None,
        keep_skills: bool = True,
    ) -> Transfer:
        """Move work to another queue/department (back into the queue, unassigned)."""
        if not reason.strip():
            raise RoutingError("a transfer needs a reason")
        item = self._item(item_id)
        record = Transfer(item.id, item.department, department, reason, item.agent, now)
        if item.state == "offered":
            self._drop_offer_of(item)
        self._unqueue(item)
        self._release(item)
        item.department = department
        if skills is not None or not keep_skills:
            item.skills = dict(skills or {})
        item.excluded.clear()
        item.state = "queued"
        self._push(item, now)
        return record

    # -- figures ------------------------------------------------------------------------------
    def queued(self) -> Iterator[Item]:
        return (i for i in self.items.values() if i.state == "queued")

    def queue_sizes(self) -> dict[str | None, int]:
        sizes: dict[str | None, int] = {}
        for cls in self._classes.values():
            if cls.size:
                sizes[cls.key[3]] = sizes.get(cls.key[3], 0) + cls.size
        return sizes

    def ordered(self, now: datetime, items: Iterable[Item] | None = None) -> list[Item]:
        """Queued items, most urgent first (for views; sorts, so not for the hot path)."""
        pool = list(self.queued() if items is None else items)
        return sorted(pool, key=lambda i: i.rank)


def _before(a: tuple[int, float, datetime | None], b: tuple[int, float, datetime | None]) -> bool:
    if a[0] != b[0]:
        return a[0] < b[0]
    if a[1] != b[1]:
        return a[1] < b[1]
    if a[2] is None or b[2] is None:
        return a[2] is not None
    return a[2] < b[2]
