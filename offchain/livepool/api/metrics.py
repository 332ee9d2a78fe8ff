"""Prometheus metrics of one service process (no per-miner labels)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["Metrics"]


class Metrics:
    """The service's metrics, on a registry of their own (one per app)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.ingest = Counter(
            "livepool_ingest_items",
            "Receipts and verdicts posted, by kind and outcome.",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.rejects = Counter(
            "livepool_ingest_rejects",
            "Rejected items by reason (the fields named in the reason).",
            ["reason"],
            registry=self.registry,
        )
        self.epoch_lag = Gauge(
            "livepool_epoch_lag",
            "Current epoch minus the last closed epoch.",
            registry=self.registry,
        )
        self.liabilities = Gauge(
            "livepool_liabilities_wei",
            "Active root total minus total claimed.",
            registry=self.registry,
        )
        self.balance = Gauge(
            "livepool_contract_balance_wei", "The distributor's balance.", registry=self.registry
        )
        self.chain_age = Gauge(
            "livepool_chain_data_age_seconds",
            "Seconds since the last chain refresh.",
            registry=self.registry,
        )
        self.latency = Histogram(
            "livepool_http_request_seconds",
            "Request latency by route template and status class.",
            ["route", "status"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=self.registry,
        )
