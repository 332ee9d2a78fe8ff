"""Receipts and verdicts: validation, messages, plausibility, canonical bytes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from eth_hash.auto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from livepool.errors import ValidationError
from livepool.hashing import checksum_address
from livepool.receipts import (
    MAX_PIXELS,
    Receipt,
    canonical_receipt_bytes,
    canonical_verdict_bytes,
    is_plausible,
    parse_receipt,
    parse_verdict,
    plausibility,
    receipt_digest,
    verdict_digest,
)

MINER = "0x" + "cd" * 20
MINER_CHECKSUMMED = "0xCdCDCdCdcdcdcdCdcDcDCdcDcDCdCdcdCdcDCDcD"
ORCH = "0x" + "ab" * 20


def receipt(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "r-1",
        "orchestrator": ORCH,
        "transcoder": MINER,
        "stream": "stream-1",
        "seq": 3,
        "finished_at": 1_700_000_000,
        "duration_ms": 2_000,
        "latency_ms": 500,
        "pixels_decoded": 124_416_000,
        "pixels_encoded": 93_657_600,
        "price_per_unit": 1_200,
        "pixels_per_unit": 1,
        "status": "ok",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not DROP}


DROP = object()


def rendition(
    profile: str = "720p30",
    width: int = 1280,
    height: int = 720,
    fps: Any = 30,
    pixels: int = 55_296_000,
) -> dict[str, Any]:
    return {"profile": profile, "width": width, "height": height, "fps": fps, "pixels": pixels}


# --- accepted --------------------------------------------------------------------------


def test_parse_receipt__valid__stores_checksummed_addresses() -> None:
    r = parse_receipt(receipt(transcoder=MINER.upper().replace("0X", "0x")))
    assert r.transcoder == MINER_CHECKSUMMED
    assert r.orchestrator == checksum_address(ORCH)
    assert r.status == "ok"
    assert r.profiles is None


def test_parse_receipt__all_optional_fields__kept() -> None:
    r = parse_receipt(
        receipt(
            node="rig-7",
            region="eu-west",
            broadcaster="0x" + "ef" * 20,
            round=3_500,
            profiles=["720p30", "480p30"],
            renditions=[rendition()],
        )
    )
    assert r.node == "rig-7"
    assert r.broadcaster == checksum_address("0x" + "ef" * 20)
    assert r.renditions is not None
    assert r.renditions[0].width == 1280


def test_receipt__frozen() -> None:
    r = parse_receipt(receipt())
    with pytest.raises(Exception, match="frozen"):
        r.seq = 4  # type: ignore[misc]


# --- every rejection path, with its message ---------------------------------------------

REJECTIONS = [
    ({"transcoder": "0x12"}, "transcoder: not a 20-byte hex address: '0x12'"),
    ({"transcoder": "0x" + "zz" * 20}, "transcoder: not a 20-byte hex address"),
    ({"transcoder": "cd" * 21}, "transcoder: not a 20-byte hex address"),
    ({"transcoder": 12}, "transcoder: input should be a valid string"),
    ({"transcoder": "0x" + "00" * 20}, "transcoder: the zero address cannot be paid"),
    ({"orchestrator": "0x" + "ab" * 19}, "orchestrator: not a 20-byte hex address"),
    ({"broadcaster": "nope"}, "broadcaster: not a 20-byte hex address: 'nope'"),
    ({"id": ""}, "id: string should have at least 1 character"),
    ({"id": "x" * 129}, "id: string should have at most 128 characters"),
    ({"id": "a\x00b"}, "id: contains a control character"),
    ({"id": 7}, "id: input should be a valid string, got 7"),
    ({"stream": "s" * 129}, "stream: string should have at most 128 characters"),
    ({"node": "rig\n1"}, "node: contains a control character"),
    ({"region": ""}, "region: string should have at least 1 character"),
    ({"seq": -1}, "seq: input should be greater than or equal to 0, got -1"),
    ({"seq": True}, "seq: input should be a valid integer, got True"),
    ({"seq": 1.0}, "seq: input should be a valid integer, got 1.0"),
    ({"seq": "1"}, "seq: input should be a valid integer, got '1'"),
    ({"finished_at": 1_000_000_000}, "finished_at: input should be greater than or equal to"),
    ({"finished_at": 5_000_000_000}, "finished_at: input should be less than"),
    ({"duration_ms": 0}, "duration_ms: input should be greater than 0, got 0"),
    ({"duration_ms": 3_600_001}, "duration_ms: input should be less than or equal to 3600000"),
    ({"latency_ms": -5}, "latency_ms: input should be greater than or equal to 0"),
    ({"pixels_decoded": -1}, "pixels_decoded: input should be greater than or equal to 0"),
    ({"pixels_encoded": MAX_PIXELS + 1}, "pixels_encoded: input should be less than or equal"),
    ({"pixels_encoded": 1.5e8}, "pixels_encoded: input should be a valid integer"),
    ({"price_per_unit": -1}, "price_per_unit: input should be greater than or equal to 0"),
    ({"price_per_unit": 2**128}, "price_per_unit: input should be less than or equal to"),
    ({"price_per_unit": False}, "price_per_unit: input should be a valid integer, got False"),
    ({"pixels_per_unit": 0}, "pixels_per_unit: input should be greater than 0, got 0"),
    ({"status": "done"}, "status: input should be 'ok' or 'failed', got 'done'"),
    ({"profiles": "720p30"}, "profiles: input should be a valid list"),
    ({"profiles": ["x" * 65]}, "profiles.0: string should have at most 64 characters"),
    ({"round": -1}, "round: input should be greater than or equal to 0"),
    ({"renditions": []}, "renditions: list should have at least 1 item"),
    ({"renditions": [rendition(width=0)]}, "renditions.0.width: input should be greater than 0"),
    ({"renditions": [rendition(fps=0)]}, "renditions.0.fps: input should be greater than or"),
    ({"renditions": [rendition(fps=True)]}, "renditions.0.fps: input should be a valid integer"),
    ({"renditions": [rendition(fps=float("nan"))]}, "renditions.0.fps"),
    (
        {"renditions": [{"profile": "x", "width": 1, "height": 1, "fps": 1}]},
        "renditions.0.pixels: field required",
    ),
    ({"colour": "blue"}, "colour: unknown field"),
    ({"seq": DROP}, "seq: field required"),
    ({"status": DROP}, "status: field required"),
]


@pytest.mark.parametrize(("changes", "message"), REJECTIONS)
def test_parse_receipt__invalid__names_the_field(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_receipt(receipt(**changes))
    assert message in str(info.value)


def test_parse_receipt__several_errors__all_named() -> None:
    with pytest.raises(ValidationError) as info:
        parse_receipt(receipt(seq=-1, transcoder="0x12", status="?"))
    text = str(info.value)
    for field in ("seq:", "transcoder:", "status:"):
        assert field in text


def test_parse_receipt__not_a_mapping__rejected() -> None:
    with pytest.raises(ValidationError, match=r"^receipt: input should be a valid dictionary"):
        parse_receipt([1, 2])


def test_parse_receipt__is_a_value_error_and_livepool_error() -> None:
    with pytest.raises(ValueError):
        parse_receipt({})


# --- verdicts ----------------------------------------------------------------------------


def test_parse_verdict__failed__accepted() -> None:
    v = parse_verdict({"receipt_id": "r-1", "ok": False, "reason": "hash mismatch"})
    assert (v.receipt_id, v.ok, v.reason) == ("r-1", False, "hash mismatch")
    assert canonical_verdict_bytes(v) == b'{"ok":false,"reason":"hash mismatch","receipt_id":"r-1"}'
    assert verdict_digest(v) == keccak(canonical_verdict_bytes(v))


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ({"receipt_id": "r", "ok": True, "reason": "x"}, "ok: a verdict records a failure"),
        ({"receipt_id": "r", "ok": 0, "reason": "x"}, "ok: input should be a valid boolean"),
        ({"receipt_id": "", "ok": False, "reason": "x"}, "receipt_id: string should have at"),
        ({"receipt_id": "r", "ok": False, "reason": ""}, "reason: string should have at least"),
        ({"receipt_id": "r", "ok": False}, "reason: field required"),
        ({"receipt_id": "r", "ok": False, "reason": "x", "at": 1}, "at: unknown field"),
        ("r", "verdict: input should be a valid dictionary"),
    ],
)
def test_parse_verdict__invalid__names_the_field(obj: Any, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_verdict(obj)
    assert message in str(info.value)


# --- plausibility ------------------------------------------------------------------------

# 1280x720 at 30 fps for 2 s: 55,296,000 nominal pixels; x1.02 = 56,401,920 allowed.
NOMINAL = 1280 * 720 * 30 * 2
ALLOWED = NOMINAL * 102 // 100


def plausible_receipt(encoded: int, **rend: Any) -> Receipt:
    r = rendition(**{"pixels": min(encoded, ALLOWED), **rend})
    return parse_receipt(receipt(pixels_encoded=encoded, renditions=[r]))


def test_plausibility__no_renditions__nothing_to_check() -> None:
    r = parse_receipt(receipt(pixels_encoded=MAX_PIXELS))
    assert plausibility(r) is None
    assert r.implausible is None


def test_plausibility__at_the_bound__plausible() -> None:
    assert NOMINAL * 102 % 100 == 0  # the bound is an integer: exactly at it is allowed
    assert plausibility(plausible_receipt(ALLOWED)) is None
    assert is_plausible(plausible_receipt(ALLOWED))


def test_plausibility__one_pixel_over__flagged_with_reason() -> None:
    r = plausible_receipt(ALLOWED + 1)
    reason = plausibility(r)
    assert reason is not None
    assert reason.startswith("pixels_encoded: 56401921 exceed")
    assert r.implausible == reason
    assert not is_plausible(r)


def test_plausibility__fractional_fps_and_duration__rounded_up() -> None:
    # 29.97 fps -> 30; 1,001 ms -> 2 s: the same bound as 30 fps for 2 s.
    r = parse_receipt(
        receipt(duration_ms=1_001, pixels_encoded=ALLOWED, renditions=[rendition(fps=29.97)])
    )
    assert plausibility(r) is None
    r = parse_receipt(
        receipt(duration_ms=1_000, pixels_encoded=ALLOWED, renditions=[rendition(fps=29.97)])
    )
    assert plausibility(r) is not None  # 1 s: half the bound


def test_plausibility__rendition_over_its_own_bound__flagged() -> None:
    small = rendition(profile="360p", width=640, height=360, pixels=NOMINAL)
    big = rendition(profile="1080p", width=1920, height=1080, pixels=0)
    r = parse_receipt(receipt(pixels_encoded=NOMINAL, renditions=[small, big]))
    reason = plausibility(r)
    assert reason is not None
    assert reason.startswith("rendition 360p:")


def test_plausibility__sum_over_renditions() -> None:
    ladder = [
        rendition("720p", 1280, 720, 30, 55_296_000),
        rendition("480p", 854, 480, 30, 24_595_200),
        rendition("360p", 640, 360, 30, 13_824_000),
    ]
    total = sum(r["pixels"] for r in ladder)
    assert plausibility(parse_receipt(receipt(pixels_encoded=total, renditions=ladder))) is None
    over = total * 103 // 100
    assert plausibility(parse_receipt(receipt(pixels_encoded=over, renditions=ladder)))


# --- canonical bytes ---------------------------------------------------------------------


def reference_bytes(r: Receipt) -> bytes:
    return json.dumps(
        r.model_dump(exclude_none=True), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()


def test_canonical_bytes__sorted_compact_none_omitted() -> None:
    r = parse_receipt(receipt())
    data = canonical_receipt_bytes(r)
    assert data == reference_bytes(r)
    assert b" " not in data
    assert b"node" not in data
    assert data.startswith(b'{"duration_ms":2000,"finished_at":1700000000,"id":"r-1",')


def test_canonical_bytes__same_content_any_spelling__same_bytes() -> None:
    a = parse_receipt(receipt(transcoder=MINER, renditions=[rendition(fps=30)]))
    b = parse_receipt(
        dict(
            reversed(
                receipt(transcoder=MINER_CHECKSUMMED, renditions=[rendition(fps=30.0)]).items()
            )
        )
    )
    assert canonical_receipt_bytes(a) == canonical_receipt_bytes(b)
    assert receipt_digest(a) == receipt_digest(b)


def test_receipt_digest__is_keccak_of_canonical_bytes() -> None:
    r = parse_receipt(receipt())
    assert receipt_digest(r) == keccak(canonical_receipt_bytes(r))
    assert receipt_digest(r) != receipt_digest(parse_receipt(receipt(seq=4)))


def test_receipt_digest__known_answer() -> None:
    r = parse_receipt(receipt())
    expected = (
        b'{"duration_ms":2000,"finished_at":1700000000,"id":"r-1","latency_ms":500,'
        b'"orchestrator":"0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB",'
        b'"pixels_decoded":124416000,"pixels_encoded":93657600,"pixels_per_unit":1,'
        b'"price_per_unit":1200,"seq":3,"status":"ok","stream":"stream-1",'
        b'"transcoder":"0xCdCDCdCdcdcdcdCdcDcDCdcDcDCdCdcdCdcDCDcD"}'
    )
    assert canonical_receipt_bytes(r) == expected
    assert receipt_digest(r) == keccak(expected)


addresses = st.binary(min_size=20, max_size=20).filter(any).map(lambda b: "0x" + b.hex())
labels = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=20)
renditions = st.builds(
    rendition,
    profile=labels,
    width=st.integers(1, 4096),
    height=st.integers(1, 4096),
    fps=st.one_of(st.integers(1, 240), st.floats(0.01, 1000, allow_nan=False)),
    pixels=st.integers(0, MAX_PIXELS),
)
receipts = st.fixed_dictionaries(
    {
        "id": labels,
        "orchestrator": addresses,
        "transcoder": addresses,
        "stream": labels,
        "seq": st.integers(0, 2**63 - 1),
        "finished_at": st.integers(1_420_070_400, 4_102_444_799),
        "duration_ms": st.integers(1, 3_600_000),
        "latency_ms": st.integers(0, 86_400_000),
        "pixels_decoded": st.integers(0, MAX_PIXELS),
        "pixels_encoded": st.integers(0, MAX_PIXELS),
        "price_per_unit": st.integers(0, 2**128 - 1),
        "pixels_per_unit": st.integers(1, 2**128 - 1),
        "status": st.sampled_from(["ok", "failed"]),
    },
    optional={
        "node": labels,
        "region": labels,
        "broadcaster": addresses,
        "round": st.integers(0, 2**63 - 1),
        "profiles": st.lists(labels, max_size=4),
        "renditions": st.lists(renditions, min_size=1, max_size=4),
    },
)


@settings(max_examples=200, deadline=None)
@given(receipts)
def test_canonical_bytes__any_receipt__sorted_json_and_round_trips(obj: dict[str, Any]) -> None:
    r = parse_receipt(obj)
    data = canonical_receipt_bytes(r)
    assert data == reference_bytes(r)
    again = parse_receipt(json.loads(data))
    assert again == r
    assert canonical_receipt_bytes(again) == data
    plausibility(r)  # never raises


def test_checksum_address__cached_and_case_insensitive() -> None:
    assert checksum_address(MINER) == MINER_CHECKSUMMED
    assert checksum_address(MINER.upper().replace("0X", "0x")) == MINER_CHECKSUMMED
    assert checksum_address.cache_info().hits >= 0
    with pytest.raises(ValueError, match="not a 20-byte hex address"):
        checksum_address("0x" + "g" * 40)
