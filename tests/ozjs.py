"""Runs OpenZeppelin's `@openzeppelin/merkle-tree` (the real JS library) from tests.

One request per node process (`tests/js/oz_tree.mjs` documents the requests); batch
several with `{"op": "batch", "requests": [...]}` to keep the suite fast. node and the npm
package are installed by `make setup`; their absence is a failure, not a skip.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tests" / "js" / "oz_tree.mjs"


def oz(request: dict[str, Any], timeout: float = 600) -> dict[str, Any]:
    """Send one JSON request to the OZ library and return its JSON answer."""
    node = shutil.which("node")
    assert node, "node is not on PATH: run `make setup` (it installs the npm packages)"
    package = ROOT / "node_modules" / "@openzeppelin" / "merkle-tree"
    assert package.is_dir(), f"{package} is missing: run `make setup` (npm install)"
    done = subprocess.run(
        [node, str(SCRIPT)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"oz_tree.mjs failed: {done.stderr.strip()}"
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def oz_build(values: list[tuple[str, int]]) -> dict[str, Any]:
    """OZ's tree of (address, amount) values: {"root", "proofs", "dump", "dump_json"}."""
    return oz({"op": "build", "values": [[a, str(v)] for a, v in values]})
