"""The receipt fast path agrees with the strict pydantic path, and ingest modes agree.

The fast path (:func:`livepool.receipts.decode_receipt_fast`) may only ever *decline*
(``None``: the strict path decides); whatever it accepts must be exactly what
``Receipt.model_validate_json`` gives — same model, same canonical bytes, same digest.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livepool.ingest import _encode_json, _renditions_json, ingest_receipts
from livepool.ledger import receipts
from livepool.receipts import (
    MAX_DURATION_MS,
    MAX_FINISHED_AT,
    MAX_PIXELS,
    MAX_PRICE,
    MIN_FINISHED_AT,
    Receipt,
    canonical_receipt_bytes,
    decode_receipt_fast,
    parse_receipt_fast,
    receipt_digest,
)
from livepool.simulate import simulate

ADDRESSES = (
    "0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF",
    "0x2b5ad5c4795c026514f8317c7a215e218dccd6cf",
    "0X6813EB9362372EEF6200F3B1DBC3F819671CBA69",
    "0x0000000000000000000000000000000000000000",
    "0x12",
    "0xZZ5AD5c4795c026514f8317c7a215E218DcCD6cF",
)

# Values straddling every bound, of every JSON type that could be confused with another.
ints = st.one_of(
    st.integers(-3, 3),
    st.sampled_from(
        [
            MIN_FINISHED_AT - 1,
            MIN_FINISHED_AT,
            MAX_FINISHED_AT - 1,
            MAX_FINISHED_AT,
            MAX_DURATION_MS,
            MAX_DURATION_MS + 1,
            MAX_PIXELS,
            MAX_PIXELS + 1,
            2**63 - 1,
            2**63,
            MAX_PRICE,
            MAX_PRICE + 1,
            16_384,
            16_385,
            1000,
            1001,
        ]
    ),
    st.integers(-(2**70), 2**130),
)
weird = st.one_of(
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.just(1.0),
    st.text(max_size=3),
    st.lists(st.integers(), max_size=2),
)
labels = st.one_of(
    st.text(alphabet="abc-_0129 ", min_size=0, max_size=3),
    st.text(min_size=1, max_size=4),  # control characters, quotes, backslashes, non-ASCII
    st.sampled_from(["x" * 64, "x" * 65, "x" * 128, "x" * 129, "720p30", 'a"b', "a\\b", "é"]),
)
fps = st.one_of(
    st.sampled_from([0, 1, 30, 1000, 1001, 0.01, 0.009, 29.97, 30.0, 59.94, 1000.0, 1000.5]),
    st.floats(0, 1100, allow_nan=False),
    st.integers(-1, 1100),
    weird,
)


def _valid_rendition(draw: Any) -> dict[str, Any]:
    return {
        "fps": draw(fps),
        "height": draw(st.one_of(st.integers(1, 2160), ints, weird)),
        "pixels": draw(st.one_of(st.integers(0, 10**9), ints)),
        "profile": draw(st.one_of(st.sampled_from(["720p30", "480p30"]), labels)),
        "width": draw(st.one_of(st.integers(1, 3840), ints)),
    }


@st.composite
def receipt_dicts(draw: Any) -> dict[str, Any]:
    """Mostly valid receipts, each field sometimes pushed past a bound or mistyped."""
    r: dict[str, Any] = {
        "id": draw(st.one_of(st.uuids().map(str), labels)),
        "orchestrator": draw(st.sampled_from(ADDRESSES)),
        "transcoder": draw(st.sampled_from(ADDRESSES)),
        "stream": draw(st.one_of(st.just("s-1"), labels)),
        "seq": draw(st.one_of(st.integers(0, 10**6), ints)),
        "finished_at": draw(st.one_of(st.integers(MIN_FINISHED_AT, 2_000_000_000), ints)),
        "duration_ms": draw(st.one_of(st.just(2000), ints)),
        "latency_ms": draw(st.one_of(st.integers(0, 5000), ints)),
        "pixels_decoded": draw(st.one_of(st.just(124_416_000), ints)),
        "pixels_encoded": draw(st.one_of(st.just(93_715_200), ints)),
        "price_per_unit": draw(st.one_of(st.integers(0, 2000), ints)),
        "pixels_per_unit": draw(st.one_of(st.integers(1, 3), ints)),
        "status": draw(st.sampled_from(["ok", "failed", "OK", "done"])),
    }
    optional = {
        "node": st.one_of(labels, st.none()),
        "region": st.one_of(labels, st.none()),
        "broadcaster": st.one_of(st.sampled_from(ADDRESSES), st.none()),
        "round": st.one_of(ints, st.none()),
        "profiles": st.one_of(st.lists(labels, max_size=33), st.none(), weird),
        "renditions": st.one_of(
            st.lists(st.builds(dict), max_size=0),
            st.lists(st.composite(lambda d: _valid_rendition(d))(), min_size=1, max_size=4),
            st.none(),
            weird,
        ),
    }
    for name, strategy in optional.items():
        if draw(st.booleans()):
            r[name] = draw(strategy)
    for name in draw(st.lists(st.sampled_from(sorted(r)), max_size=2)):
        choice = draw(st.integers(0, 2))
        if choice == 0:
            r.pop(name, None)
        elif choice == 1:
            r[name] = draw(weird)
        else:
            r[name] = draw(ints)
    if draw(st.integers(0, 20)) == 0:
        r["extra"] = 1
    return r


def _line(r: dict[str, Any], draw: Any) -> bytes:
    text = json.dumps(r, ensure_ascii=draw(st.booleans()), separators=(",", ":"))
    variant = draw(st.integers(0, 4))
    if variant == 1:
        text = json.dumps(r, indent=1)
    elif variant == 2 and text.startswith("{") and len(text) > 2:
        text = text[:-1] + ',"seq":7}'  # a duplicate key: the last one wins
    elif variant == 3:
        text = text[: draw(st.integers(0, len(text)))]  # truncated
    return text.encode()


def _strict(line: bytes) -> Receipt | None:
    try:
        return Receipt.model_validate_json(line)
    except ValueError:
        return None


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fast_path__any_line__same_decision_and_model_as_strict(data: Any) -> None:
    line = _line(data.draw(receipt_dicts()), data.draw)
    strict = _strict(line)
    fast = parse_receipt_fast(line)
    decoded = decode_receipt_fast(line)
    assert (fast is None) == (decoded is None)
    if fast is None:
        return  # declined: the strict path decides (and is the only one that speaks)
    assert decoded is not None
    assert strict is not None, f"fast path accepted what the strict path refuses: {line!r}"
    assert fast.model_dump() == strict.model_dump()
    assert fast == strict
    r, canonical = decoded
    assert canonical == canonical_receipt_bytes(strict)
    assert canonical == canonical_receipt_bytes(fast)
    if strict.renditions is not None:
        assert _encode_json(r.renditions) == _renditions_json(strict.renditions)
    # str input takes the same path as bytes
    assert parse_receipt_fast(line.decode()) == strict


@settings(max_examples=300, deadline=None)
@given(r=receipt_dicts())
def test_fast_path__valid_dicts__accepted_when_plain(r: dict[str, Any]) -> None:
    """A valid receipt in the common case (ASCII, 64-bit integers) takes the fast path."""
    line = json.dumps(r).encode()
    strict = _strict(line)
    fast = parse_receipt_fast(line)
    if strict is None:
        assert fast is None
        return
    plain = line.isascii() and b"\\" not in line and b"\x7f" not in line
    small = strict.price_per_unit < 2**63 and strict.pixels_per_unit < 2**63
    if plain and small:
        assert fast is not None
        assert receipt_digest(fast) == receipt_digest(strict)


def test_fast_path__simulated_pool__every_receipt_taken_and_identical() -> None:
    for item in simulate(20, 2_000, seed=5, start=1_764_028_800):
        if "verdict" in item:
            continue
        line = json.dumps(item).encode()
        fast = parse_receipt_fast(line)
        assert fast is not None
        assert canonical_receipt_bytes(fast) == canonical_receipt_bytes(
            Receipt.model_validate_json(line)
        )


@pytest.mark.parametrize("parallel", ["auto", "off", "thread", "process"])
def test_ingest__parallel_modes__same_report_and_rows(
    ledger: Any, make_receipt: Any, parallel: str, tmp_path: Any
) -> None:
    good = [json.dumps(make_receipt(n)).encode() for n in range(40)]
    items: list[Any] = [
        *good[:30],
        good[3],  # duplicate within the call
        json.dumps(make_receipt(4, seq=99)).encode(),  # conflict within the call
        b"{not json",
        json.dumps(make_receipt(50, transcoder="0x12")).encode(),
        None,
        json.dumps({"verdict": {"receipt_id": "r-1", "ok": False, "reason": "bad"}}).encode(),
        make_receipt(60),  # a mapping, not a line
        *good[25:],  # overlaps an earlier chunk: caught again
    ]
    report = ingest_receipts(ledger, items, chunk_size=7, parallel=parallel)  # type: ignore[arg-type]
    again = ingest_receipts(ledger, items, chunk_size=7, parallel="off")
    assert (report.accepted, report.duplicate, report.conflict, report.rejected) == (42, 6, 1, 2)
    assert [(p.index, p.outcome, p.reason) for p in report.problems] == [
        (31, "conflict", "id: a receipt with this id is stored with different content"),
        (32, "rejected", (report.problems[1].reason)),
        (33, "rejected", "transcoder: not a 20-byte hex address: '0x12'"),
    ]
    assert report.problems[1].reason.startswith("not JSON")
    assert ledger.count(receipts) == 41
    assert again.accepted == 0
    assert again.rejected == 2
