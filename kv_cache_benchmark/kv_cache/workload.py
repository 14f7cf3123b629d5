"""Users, QoS classes and open-loop request generation."""
from __future__ import annotations

import heapq
import itertools
import queue
import random
import threading
import time
from dataclasses import dataclass, field
from enum import Enum


@dataclass(frozen=True)
class UserTemplate:
    """Ranges a user type draws its fixed profile from."""

    name: str
    context_tokens: tuple[int, int]
    generation_tokens: tuple[int, int]
    think_time_s: tuple[float, float]


USER_TEMPLATES = (
    UserTemplate("chatbot", (512, 4096), (50, 200), (0.1, 0.5)),
    UserTemplate("coding", (4096, 25000), (100, 500), (0.2, 1.0)),
    UserTemplate("document", (4096, 16384), (200, 800), (0.3, 1.5)),
)


class QoSClass(Enum):
    """Service class: value is the queue priority (higher = sooner)."""

    INTERACTIVE = 3
    RESPONSIVE = 2
    BATCH = 1


QOS_SLA_P95_MS = {QoSClass.INTERACTIVE: 50.0, QoSClass.RESPONSIVE: 100.0,
                  QoSClass.BATCH: 1000.0}


class Phase(Enum):
    """Inference phase of a request."""

    PREFILL = "prefill"
    PREFILL_DECODE = "prefill_decode"
    DECODE = "decode"


PREFILL_ONLY_CONTEXT_TOKENS = 10000
MAX_TURNS_PER_CONVERSATION = 50
CONVERSATION_END_PROBABILITY = 0.2


@dataclass
class UserProfile:
    """One simulated user with a fixed draw from its template."""

    user_id: str
    template: str
    context_tokens: int
    generation_tokens: int
    think_time_s: float
    qos: QoSClass
    conversation_id: str | None = None
    turn: int = 0
    request_counter: int = 0


@dataclass(order=True)
class Request:
    """One inference request; ordering is the priority-queue key."""

    sort_key: tuple[int, float] = field(init=True)
    user_id: str = field(compare=False, default="")
    key: str = field(compare=False, default="")
    context_tokens: int = field(compare=False, default=0)
    generation_tokens: int = field(compare=False, default=0)
    phase: Phase = field(compare=False, default=Phase.PREFILL_DECODE)
    qos: QoSClass = field(compare=False, default=QoSClass.BATCH)
    conversation_id: str | None = field(compare=False, default=None)
    turn: int = field(compare=False, default=0)
    previous_turn_keys: tuple[str, ...] = field(compare=False, default=())
    submitted_at: float = field(compare=False, default=0.0)


def draw_qos(rng: random.Random) -> QoSClass:
    """Interactive with p=0.15, responsive if r<0.50, else batch."""
    r = rng.random()
    if r < 0.15:
        return QoSClass.INTERACTIVE
    if r < 0.50:
        return QoSClass.RESPONSIVE
    return QoSClass.BATCH


def make_users(count: int, rng: random.Random) -> list[UserProfile]:
    """Draw ``count`` users with templates uniform over the three types."""
    users = []
    for index in range(count):
        template = rng.choice(USER_TEMPLATES)
        users.append(UserProfile(
            user_id=f"user_{index:04d}",
            template=template.name,
            context_tokens=rng.randint(*template.context_tokens),
            generation_tokens=rng.randint(*template.generation_tokens),
            think_time_s=rng.uniform(*template.think_time_s),
            qos=draw_qos(rng)))
    return users


def next_request(user: UserProfile, rng: random.Random, multi_turn: bool,
                 now: float) -> Request:
    """Build the user's next request, advancing its conversation state."""
    previous: tuple[str, ...] = ()
    if multi_turn:
        ended = (user.conversation_id is None
                 or user.turn >= MAX_TURNS_PER_CONVERSATION
                 or rng.random() < CONVERSATION_END_PROBABILITY)
        if ended:
            user.conversation_id = f"conv_{user.user_id}_{int(now * 1000)}_{user.request_counter}"
            user.turn = 0
        previous = tuple(f"{user.conversation_id}_turn_{n}" for n in range(1, user.turn + 1))
        user.turn += 1
        key = f"{user.conversation_id}_turn_{user.turn}"
    else:
        key = f"{user.user_id}_req_{user.request_counter:06d}"
    user.request_counter += 1
    context = rng.randint(max(1, user.context_tokens // 4), user.context_tokens)
    generation = rng.randint(max(1, user.generation_tokens // 4), user.generation_tokens)
    phase = (Phase.PREFILL if context >= PREFILL_ONLY_CONTEXT_TOKENS
             else Phase.PREFILL_DECODE)
    return Request((-user.qos.value, now), user.user_id, key, context, generation, phase,
                   user.qos, user.conversation_id if multi_turn else None, user.turn,
                   previous, now)


class OpenLoopGenerator(threading.Thread):
    """One scheduler thread driving every user open-loop.

    Each user's next arrival is its previous arrival plus think x U(0.8, 1.2);
    the generator never waits for requests to finish. The first arrival of a
    user is a random fraction of one think time so load starts at once.
    """

    def __init__(self, users: list[UserProfile], out: queue.PriorityQueue,
                 rng: random.Random, stop: threading.Event, multi_turn: bool,
                 request_limit: int = 0, make=None) -> None:
        super().__init__(name="kv-request-generator", daemon=True)
        self.make = make or (lambda user, rng, now: next_request(user, rng, multi_turn, now))
        self.users = users
        self.out = out
        self.rng = rng
        self.stop_event = stop
        self.multi_turn = multi_turn
        self.request_limit = request_limit
        self.generated = 0

    def run(self) -> None:
        start = time.perf_counter()
        tie = itertools.count()
        schedule = [(start + self.rng.uniform(0.0, 0.1) * user.think_time_s, next(tie), user)
                    for user in self.users]
        heapq.heapify(schedule)
        while schedule and not self.stop_event.is_set():
            due, _, user = heapq.heappop(schedule)
            wait = due - time.perf_counter()
            if wait > 0 and self.stop_event.wait(wait):
                return
            now = time.perf_counter()
            self.out.put(self.make(user, self.rng, now))
            self.generated += 1
            if self.request_limit and self.generated >= self.request_limit:
                return
            think = user.think_time_s * self.rng.uniform(0.8, 1.2)
            heapq.heappush(schedule, (due + think, next(tie), user))
