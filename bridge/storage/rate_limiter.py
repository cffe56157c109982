"""Amazon's quotas as token buckets kept in the database, shared by every process on every machine.

Amazon meters each operation per seller with a token bucket (rate per second, burst). Each bucket is one row;
taking a token is one atomic UPDATE that refills by elapsed time, so four web processes and two workers together
stay inside what one seller's application may do. A caller may reserve a token that is only minted later (the
bucket goes negative) and then waits for it, or gives up at once if the wait would not fit its time budget.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from sqlalchemy import Engine, and_, case, literal, select, update

from bridge.errors import QuotaExhausted
from bridge.storage.tables import rate_buckets
from bridge.storage.upsert import insert_if_absent

# Amazon counts a token when a request arrives, the bridge when it reserves one; arrivals can be this much
# closer together than the reservations were (network and scheduling jitter), so a bucket is never run below
# rate x this many tokens.
LATENCY_ALLOWANCE_SECONDS = 0.25


class RateLimiter:
    def __init__(
        self,
        engine: Engine,
        quotas: dict[str, tuple[float, int]],
        clock: Callable[[], float] = time.time,
        latency_allowance: float = LATENCY_ALLOWANCE_SECONDS,
    ) -> None:
        self._engine = engine
        self._quotas = quotas
        self._clock = clock
        self._latency_allowance = latency_allowance
        self._known: set[tuple[str, str]] = set()
        self._observed_rates: dict[tuple[str, str], float] = {}

    def observe_rate(self, seller_id: str, operation: str, rate: float) -> bool:
        """Amazon's ``x-amzn-RateLimit-Limit``: the rate it really applies to this seller (it may grant more).

        Only a finite, positive rate is taken (False otherwise): ``inf`` or ``nan`` would break every bucket.
        """
        if not (math.isfinite(rate) and rate > 0):
            return False
        self._observed_rates[(seller_id, operation)] = rate
        return True

    def _quota(self, seller_id: str, operation: str) -> tuple[float, int]:
        rate, burst = self._quotas[operation]
        return self._observed_rates.get((seller_id, operation), rate), burst

    def reserve(self, seller_id: str, operation: str, max_wait: float) -> float:
        """Take one token; return how long to wait before using it. QuotaExhausted if over ``max_wait``."""
        rate, burst = self._quota(seller_id, operation)
        floor = rate * self._latency_allowance
        now = self._clock()
        self._ensure_row(seller_id, operation, burst, now)
        elapsed = literal(now) - rate_buckets.c.updated_at
        refilled = rate_buckets.c.tokens + case((elapsed > 0, elapsed), else_=0.0) * rate
        available = case((refilled > burst, float(burst)), else_=refilled)
        key = and_(rate_buckets.c.seller_id == seller_id, rate_buckets.c.operation == operation)
        with self._engine.begin() as connection:
            row = connection.execute(
                update(rate_buckets)
                .where(key, available - 1 >= floor - max_wait * rate)
                .values(tokens=available - 1, updated_at=case((elapsed > 0, now), else_=rate_buckets.c.updated_at))
                .returning(rate_buckets.c.tokens)
            ).first()
            if row is not None:
                return max(0.0, (floor - row.tokens) / rate)
            tokens = connection.execute(select(available).where(key)).scalar_one()
        wait = (floor + 1 - tokens) / rate
        raise QuotaExhausted(
            "rate limiter", f"{operation}: next request slot in {wait:.1f}s", code="LocalQuota", retry_after=wait
        )

    def acquire(self, seller_id: str, operation: str, max_wait: float) -> None:
        """Block until a request slot is ours, or raise QuotaExhausted if it will not come in ``max_wait``."""
        wait = self.reserve(seller_id, operation, max_wait)
        if wait > 0:
            time.sleep(wait)

    def available(self, seller_id: str, operation: str) -> float:
        """Tokens in the bucket now (negative while reservations are outstanding)."""
        rate, burst = self._quota(seller_id, operation)
        now = self._clock()
        self._ensure_row(seller_id, operation, burst, now)
        with self._engine.connect() as connection:
            row = connection.execute(
                select(rate_buckets.c.tokens, rate_buckets.c.updated_at).where(
                    rate_buckets.c.seller_id == seller_id, rate_buckets.c.operation == operation
                )
            ).one()
        return min(float(burst), row.tokens + max(0.0, now - row.updated_at) * rate)

    def rate(self, seller_id: str, operation: str) -> float:
        """Requests a second the seller's bucket refills at (Amazon's ``x-amzn-RateLimit-Limit`` when it sent one)."""
        return self._quota(seller_id, operation)[0]

    def seconds_until_available(self, seller_id: str, operation: str) -> float:
        """How long until the bucket holds a whole token (0 when it does now): for callers that would rather come
        back then than wait for a token inside their step."""
        rate, _ = self._quota(seller_id, operation)
        return max(0.0, (1 - self.available(seller_id, operation)) / rate)

    def drain(self, seller_id: str, operation: str) -> None:
        """Amazon said 429: its bucket is empty whatever ours says, so start refilling from zero."""
        now = self._clock()
        with self._engine.begin() as connection:
            connection.execute(
                update(rate_buckets)
                .where(rate_buckets.c.seller_id == seller_id, rate_buckets.c.operation == operation)
                .values(tokens=case((rate_buckets.c.tokens > 0, 0.0), else_=rate_buckets.c.tokens), updated_at=now)
            )

    def _ensure_row(self, seller_id: str, operation: str, burst: int, now: float) -> None:
        if (seller_id, operation) in self._known:
            return
        with self._engine.begin() as connection:
            insert_if_absent(
                connection,
                rate_buckets,
                {"seller_id": seller_id, "operation": operation, "tokens": float(burst), "updated_at": now},
            )
        self._known.add((seller_id, operation))
