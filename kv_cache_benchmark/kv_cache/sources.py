"""Where requests come from besides the synthetic users: a local ShareGPT-format JSON file, a local
BurstGPT-format CSV trace, and a fixed request rate. Nothing is downloaded; a bad file is a usage error.

* ShareGPT (``--dataset-path``): a JSON list of ``{"id": ..., "conversations": [{"from": "human"|"gpt",
  "value": text}, ...]}``. Each human message followed by a reply is one turn: its context is every earlier
  message of the conversation plus the message itself, its generation the reply. Tokens are estimated as
  ceil(characters / 4) (no tokenizer is needed). ``--max-conversations`` keeps the first N usable conversations.
* BurstGPT trace (``--use-burst-trace --burst-trace-path F``): a CSV with a header naming ``Timestamp``,
  ``Request tokens`` and ``Response tokens`` (other columns ignored). Row times are divided by
  ``--trace-speedup``; ``--replay-cycles N`` replays the trace N times (0 = until the run ends).
* ``--request-rate R``: arrivals form a Poisson process of R requests per second, each taken by the next user
  in turn, instead of each user's own think time.
"""
from __future__ import annotations

import csv
import itertools
import json
import math
import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import BenchmarkUsageError
from .workload import PREFILL_ONLY_CONTEXT_TOKENS, Phase, QoSClass, Request, UserProfile, draw_qos

CHARS_PER_TOKEN = 4
MAX_FILE_BYTES = 2 * 1024 ** 3
TRACE_COLUMNS = ("Timestamp", "Request tokens", "Response tokens")


def estimate_tokens(text: str) -> int:
    """Tokens of a text without a tokenizer: ceil(characters / 4), at least 1."""
    return max(1, math.ceil(len(text) / CHARS_PER_TOKEN))


@dataclass(frozen=True)
class Turn:
    """One request of a replayed conversation."""

    context_tokens: int
    generation_tokens: int


def _check_file(option: str, path: Path) -> None:
    if not path.is_file():
        raise BenchmarkUsageError(option, f"{path} does not exist or is not a file",
                                  f"pass an existing local file to {option}")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise BenchmarkUsageError(option, f"{path} is larger than 2 GiB", "pass a smaller file")


def load_sharegpt(path: Path, max_conversations: int) -> list[list[Turn]]:
    """The usable conversations (at least one turn each) of a ShareGPT JSON file, at most `max_conversations`."""
    _check_file("--dataset-path", path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BenchmarkUsageError("--dataset-path", f"{path} is not valid UTF-8 JSON ({exc})",
                                  "pass a ShareGPT-format JSON file (a list of {\"conversations\": [...]})") from None
    if not isinstance(data, list):
        raise BenchmarkUsageError("--dataset-path", f"{path} holds a JSON {type(data).__name__}, expected a list",
                                  "pass a ShareGPT-format JSON file (a list of {\"conversations\": [...]})")
    conversations: list[list[Turn]] = []
    for entry in data:
        messages = entry.get("conversations") if isinstance(entry, dict) else None
        if not isinstance(messages, list):
            continue
        turns, history = [], 0
        for prompt, reply in zip(messages, messages[1:]):
            if not (isinstance(prompt, dict) and isinstance(reply, dict)):
                break
            if prompt.get("from") == "human" and reply.get("from") == "gpt":
                asked = estimate_tokens(str(prompt.get("value", "")))
                answered = estimate_tokens(str(reply.get("value", "")))
                turns.append(Turn(history + asked, answered))
                history += asked + answered
        if turns:
            conversations.append(turns)
        if len(conversations) >= max_conversations:
            break
    if not conversations:
        raise BenchmarkUsageError("--dataset-path", f"{path} has no conversation with a human message followed "
                                  "by a gpt reply", "pass a ShareGPT-format file with at least one such pair")
    return conversations


def load_burst_trace(path: Path) -> list[tuple[float, Turn]]:
    """(seconds from the first row, turn) for every row of a BurstGPT-format CSV, sorted by time."""
    _check_file("--burst-trace-path", path)
    rows: list[tuple[float, Turn]] = []
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in TRACE_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise BenchmarkUsageError("--burst-trace-path", f"{path} lacks the column(s) {', '.join(missing)}",
                                          f"pass a CSV whose header names {', '.join(TRACE_COLUMNS)}")
            for number, row in enumerate(reader, start=2):
                try:
                    stamp = float(row["Timestamp"])
                    turn = Turn(max(1, int(float(row["Request tokens"]))), max(1, int(float(row["Response tokens"]))))
                except (TypeError, ValueError):
                    raise BenchmarkUsageError("--burst-trace-path", f"{path} line {number}: expected numbers in "
                                              f"{', '.join(TRACE_COLUMNS)}", "fix or remove that line") from None
                if not math.isfinite(stamp) or stamp < 0:
                    raise BenchmarkUsageError("--burst-trace-path", f"{path} line {number}: bad Timestamp {stamp}",
                                              "timestamps are seconds >= 0")
                rows.append((stamp, turn))
    except UnicodeDecodeError:
        raise BenchmarkUsageError("--burst-trace-path", f"{path} is not UTF-8 text", "pass a CSV file") from None
    if not rows:
        raise BenchmarkUsageError("--burst-trace-path", f"{path} has no data rows", "pass a non-empty trace")
    rows.sort(key=lambda r: r[0])
    first = rows[0][0]
    return [(stamp - first, turn) for stamp, turn in rows]


def _request(key: str, user: UserProfile | None, turn: Turn, now: float, conversation: str | None = None,
             number: int = 0, previous: tuple[str, ...] = ()) -> Request:
    qos = user.qos if user is not None else QoSClass.BATCH
    phase = Phase.PREFILL if turn.context_tokens >= PREFILL_ONLY_CONTEXT_TOKENS else Phase.PREFILL_DECODE
    return Request((-qos.value, now), user.user_id if user else "trace", key, turn.context_tokens,
                   turn.generation_tokens, phase, qos, conversation, number, previous, now)


class ShareGptTurns:
    """Hands each user the next turn of its conversation; conversations are dealt round-robin and the dataset is
    replayed (with new conversation ids) once every conversation has been used."""

    def __init__(self, conversations: list[list[Turn]], multi_turn: bool) -> None:
        self.conversations = conversations
        self.multi_turn = multi_turn
        self.next_conversation = itertools.count()
        self.state: dict[str, tuple[str, list[Turn], int]] = {}

    def __call__(self, user: UserProfile, rng: random.Random, now: float) -> Request:
        conv_id, turns, done = self.state.get(user.user_id, ("", [], 0))
        if done >= len(turns):
            number = next(self.next_conversation)
            index, cycle = number % len(self.conversations), number // len(self.conversations)
            conv_id, turns, done = f"conv_sharegpt_{index}_{cycle}", self.conversations[index], 0
        self.state[user.user_id] = (conv_id, turns, done + 1)
        previous = tuple(f"{conv_id}_turn_{n}" for n in range(1, done + 1)) if self.multi_turn else ()
        return _request(f"{conv_id}_turn_{done + 1}", user, turns[done], now, conv_id if self.multi_turn else None,
                        done + 1, previous)


class PacedGenerator(threading.Thread):
    """Arrivals at a fixed mean rate (Poisson), each from the next user in turn; `make` builds the request."""

    def __init__(self, users: list[UserProfile], out: queue.PriorityQueue, rng: random.Random,
                 stop: threading.Event, rate: float, make: Callable[[UserProfile, random.Random, float], Request],
                 request_limit: int = 0) -> None:
        super().__init__(name="kv-request-generator", daemon=True)
        self.users, self.out, self.rng, self.stop_event = users, out, rng, stop
        self.rate, self.make, self.request_limit = rate, make, request_limit
        self.generated = 0

    def run(self) -> None:
        due = time.perf_counter()
        for user in itertools.cycle(self.users):
            wait = due - time.perf_counter()
            if wait > 0 and self.stop_event.wait(wait):
                return
            if self.stop_event.is_set():
                return
            self.out.put(self.make(user, self.rng, time.perf_counter()))
            self.generated += 1
            if self.request_limit and self.generated >= self.request_limit:
                return
            due += self.rng.expovariate(self.rate)


class TraceGenerator(threading.Thread):
    """Replays trace rows at their (sped-up) times, `cycles` times (0 = until stopped); single-turn requests,
    QoS drawn per request as for synthetic users."""

    def __init__(self, rows: list[tuple[float, Turn]], out: queue.PriorityQueue, rng: random.Random,
                 stop: threading.Event, speedup: float, cycles: int, request_limit: int = 0) -> None:
        super().__init__(name="kv-trace-replay", daemon=True)
        self.rows, self.out, self.rng, self.stop_event = rows, out, rng, stop
        self.speedup, self.cycles, self.request_limit = speedup, cycles, request_limit
        self.generated = 0

    def run(self) -> None:
        start = time.perf_counter()
        span = self.rows[-1][0] / self.speedup
        gap = span / max(1, len(self.rows) - 1) if len(self.rows) > 1 else 1.0 / self.speedup
        cycle_length = span + gap
        cycles = range(self.cycles) if self.cycles else itertools.count()
        schedule = ((cycle, row, cycle * cycle_length + stamp / self.speedup, turn)
                    for cycle in cycles for row, (stamp, turn) in enumerate(self.rows))
        for cycle, row, offset, turn in schedule:
            wait = start + offset - time.perf_counter()
            if wait > 0 and self.stop_event.wait(wait):
                return
            if self.stop_event.is_set():
                return
            user = UserProfile(f"trace_{cycle}", "trace", turn.context_tokens, turn.generation_tokens, 0.0,
                               draw_qos(self.rng))
            self.out.put(_request(f"user_trace_{cycle}_req_{row:08d}", user, turn, time.perf_counter()))
            self.generated += 1
            if self.request_limit and self.generated >= self.request_limit:
                return


__all__ = ["Turn", "estimate_tokens", "load_sharegpt", "load_burst_trace", "ShareGptTurns", "PacedGenerator",
           "TraceGenerator"]
