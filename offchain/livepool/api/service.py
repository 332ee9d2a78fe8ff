"""One service process's state: the ledger, the chain view, pre-serialised proofs and
short-lived view caches."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from livepool.api.chainview import ChainState, ChainView
from livepool.api.metrics import Metrics
from livepool.api.proofs import ProofCache
from livepool.api.views import active_epoch
from livepool.config import Settings
from livepool.epochs import pool_config
from livepool.ledger import Ledger
from livepool.ledger import service as servicedb

__all__ = ["Service"]


class Service:
    """Everything a request may read, built once at startup."""

    def __init__(self, settings: Settings, ledger: Ledger | None = None) -> None:
        self.settings = settings
        self.ledger = ledger or Ledger(settings.database_url, data_dir=settings.data_dir)
        self.metrics = Metrics()
        self.proofs = ProofCache(self.ledger, settings.contract, settings.chain_id)
        self.chain = ChainView(settings, on_refresh=self._after_refresh)
        self._views: dict[object, tuple[float, bytes, int]] = {}
        self._view_lock = threading.Lock()
        self._building: dict[object, threading.Lock] = {}
        #: Bumped by every write: a view built before it is never served stale.
        self._generation = 0
        self.statements: dict[int, tuple[bytes, str]] = {}  # immutable: kept forever
        self.trees: dict[int, bytes] = {}
        #: The epoch proofs are served from (set by each refresh).
        self.active_epoch: int | None = None

    @property
    def state(self) -> ChainState:
        """The latest chain snapshot."""
        return self.chain.state

    def start(self) -> None:
        """Start the chain refresher (which also pre-serialises the active proofs)."""
        self.chain.start()

    def stop(self) -> None:
        """Stop the refresher and release the database."""
        self.chain.stop()
        self.ledger.close()

    def _after_refresh(self, state: ChainState) -> None:
        epoch = active_epoch(self.ledger, state, self.settings)
        if epoch is not None and servicedb.closed_epoch(self.ledger, epoch) is not None:
            self.proofs.get(epoch)
        else:
            epoch = None
        if epoch != self.active_epoch:
            self.active_epoch = epoch
            self.invalidate()
        m = self.metrics
        if state.balance is not None:
            m.balance.set(state.balance)
        if state.total_claimed is not None:
            total = state.active.total if state.active else 0
            m.liabilities.set(max(0, total - state.total_claimed))
        config = pool_config(self.ledger)
        current = max(0, (int(time.time()) - config.genesis) // config.epoch_seconds)
        last = servicedb.latest_closed(self.ledger)
        m.epoch_lag.set(current - (-1 if last is None else last))

    def fresh(self, key: object) -> bytes | None:
        """The cached bytes for ``key`` while they are fresh, else ``None``."""
        hit = self._views.get(key)
        return hit[1] if hit is not None and hit[0] > time.monotonic() else None

    def cached(self, key: object, build: Callable[[], bytes]) -> bytes:
        """``build()``'s bytes, reused for ``view_cache_seconds``.

        One build per key at a time: a stale entry is served while one thread rebuilds
        it (so a busy view never queues requests behind its recomputation), and only the
        first request for a key never seen waits — the others wait for that one build.
        """
        hit = self._views.get(key)
        now = time.monotonic()
        if hit is not None and hit[0] > now:
            return hit[1]
        with self._view_lock:
            lock = self._building.setdefault(key, threading.Lock())
        if hit is not None and not self._generation_changed(hit):
            if not lock.acquire(blocking=False):
                return hit[1]  # another thread is rebuilding it: serve the stale bytes
        else:
            lock.acquire()
        try:
            again = self._views.get(key)
            if again is not None and again[0] > time.monotonic() and again is not hit:
                return again[1]
            generation = self._generation
            body = build()
            with self._view_lock:
                if len(self._views) > 10_000:
                    self._views.clear()
                expires = time.monotonic() + self.settings.view_cache_seconds
                self._views[key] = (expires, body, generation)
            return body
        finally:
            lock.release()

    def _generation_changed(self, hit: tuple[float, bytes, int]) -> bool:
        return hit[2] != self._generation

    def invalidate(self) -> None:
        """Mark cached views out of date (after a write): the next request rebuilds."""
        self._generation += 1
        with self._view_lock:
            self._views = {k: (0.0, v[1], v[2]) for k, v in self._views.items()}
