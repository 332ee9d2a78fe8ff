"""Publishing statements, and reading them back for an audit.

The pool publishes, for every closed epoch, the statement's canonical bytes
(``epoch-N.json``, whose keccak256 is the on-chain ``data_hash``) and the OpenZeppelin
tree dump (``epoch-N.tree.json``, which miners and JS tools load to get their proof).
Files are written atomically and never changed: publishing again is a no-op, and a
differing file already there is an error (a published statement is a commitment).

An auditor reads them from such a folder, or from a base URL that serves them
(``GET {base}/v1/epochs/{n}``) — both give the same bytes.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Iterable
from pathlib import Path

from livepool import epochs
from livepool.errors import LivepoolError
from livepool.ledger import Ledger

__all__ = ["load_published", "load_trees", "publish", "statement_path", "tree_path"]

_STATEMENT = re.compile(r"^epoch-(\d+)\.json$")
_TREE = re.compile(r"^epoch-(\d+)\.tree\.json$")


def statement_path(folder: Path, epoch: int) -> Path:
    return folder / f"epoch-{epoch}.json"


def tree_path(folder: Path, epoch: int) -> Path:
    return folder / f"epoch-{epoch}.tree.json"


def _write_once(path: Path, data: bytes) -> bool:
    if path.exists():
        if path.read_bytes() != data:
            raise LivepoolError(f"{path} is already published with other content: refusing")
        return False
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return True


def publish(ledger: Ledger, folder: Path) -> list[Path]:
    """Write every closed epoch's statement and tree dump to ``folder``; return new files."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for row in epochs.list_epochs(ledger):
        if row["state"] != "closed":
            continue
        number = int(row["number"])
        statement = epochs.epoch_statement(ledger, number)
        tree = epochs.epoch_tree(ledger, number).dump_json().encode()
        for path, data in (
            (statement_path(folder, number), statement),
            (tree_path(folder, number), tree),
        ):
            if _write_once(path, data):
                written.append(path)
    return written


def _fetch_each(base: str, numbers: Iterable[int], suffix: str) -> dict[int, bytes]:
    """``GET {base}/v1/epochs/{n}{suffix}`` for each number; a 404 is left out."""
    out: dict[int, bytes] = {}
    for number in numbers:
        url = f"{base.rstrip('/')}/v1/epochs/{number}{suffix}"
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                out[number] = response.read()
        except urllib.error.HTTPError as exc:
            if exc.code != 404:
                raise LivepoolError(f"GET {url}: HTTP {exc.code}") from None
        except OSError as exc:
            raise LivepoolError(f"GET {url}: {exc}") from None
    return out


def _scan(source: str | Path, pattern: re.Pattern[str], what: str) -> dict[int, bytes]:
    """Every file of ``source`` whose name matches ``pattern``, by its epoch number."""
    folder = Path(source)
    if not folder.is_dir():
        raise LivepoolError(f"{folder}: not a folder of published {what}")
    found: dict[int, bytes] = {}
    for path in folder.iterdir():
        match = pattern.match(path.name)
        if match:
            found[int(match.group(1))] = path.read_bytes()
    return found


def _is_url(source: str | Path) -> bool:
    return str(source).startswith(("http://", "https://"))


def load_published(source: str | Path, wanted: Iterable[int] = ()) -> dict[int, bytes]:
    """Published statements by epoch: every ``epoch-N.json`` in a folder, or the
    ``wanted`` epochs (and the one before each, for continuity) from a service URL."""
    if _is_url(source):
        numbers = sorted({n for w in wanted for n in (w - 1, w) if n >= 0})
        return _fetch_each(str(source), numbers, "")
    return _scan(source, _STATEMENT, "statements")


def load_trees(source: str | Path, wanted: Iterable[int] = ()) -> dict[int, bytes]:
    """Published tree dumps by epoch: every ``epoch-N.tree.json`` in a folder, or the
    ``wanted`` epochs' ``/v1/epochs/N/tree`` from a service URL (missing ones left out)."""
    if _is_url(source):
        return _fetch_each(str(source), sorted(set(wanted)), "/tree")
    return _scan(source, _TREE, "trees")
