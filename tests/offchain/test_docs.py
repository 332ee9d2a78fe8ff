"""The guides' commands, as written.

Every ``sh`` block of README.md and docs/*.md is read. Each `livepool …` / `ape run …`
command must exist, with every option it uses (checked against the command's own click
definition, the ape scripts loaded in-process). The commands that are safe to run here —
offline `livepool` commands with no placeholder — are run, in order, in a fresh folder,
and must succeed. Commands of other tools (go-livepeer, curl, systemctl …) are skipped.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
from functools import cache
from pathlib import Path

import click
import pytest

from livepool.cli import cli as livepool_cli

ROOT = Path(__file__).resolve().parents[2]
GUIDES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: Offline commands the test may run (no chain, no network).
RUNNABLE = {"config", "simulate", "ingest", "epoch", "check", "token", "payout", "archive"}
PLACEHOLDER = re.compile(r"…|<|0xYour|0xFee…|pool\.example|\$")
#: Options ape adds to every connected command at parse time.
APE_GLOBAL = {"--network", "--provider-settings", "--verbosity", "-v", "--help"}
SCRIPT_OF = {"keeper": "keeper", "watch": "watch", "status": "status"}


def blocks(path: Path) -> list[list[str]]:
    """The command lines of each of the file's ``sh`` blocks (continuations joined,
    comments and prompts dropped)."""
    out: list[list[str]] = []
    for block in re.findall(r"```sh\n(.*?)```", path.read_text(), flags=re.S):
        joined = re.sub(r"\\\n\s*", " ", block)
        lines = []
        for line in joined.splitlines():
            line = line.split(" # ")[0].strip()
            if line and not line.startswith("#"):
                lines.append(line)
        out.append(lines)
    return out


def commands(path: Path) -> list[str]:
    """Every command line of the file's ``sh`` blocks."""
    return [line for block in blocks(path) for line in block]


@cache
def script_command(name: str) -> click.Command:
    spec = importlib.util.spec_from_file_location(
        f"_doc_script_{name}", ROOT / "scripts" / f"{name}.py"
    )
    assert spec and spec.loader, name
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.cli


def options_of(command: click.Command) -> set[str]:
    names = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
    return names | APE_GLOBAL


def resolve(words: list[str]) -> tuple[click.Command, list[str]] | None:
    """The click command a doc line runs and the words after its name; ``None`` when it
    is not ours."""
    if words[:2] == ["ape", "run"] and len(words) > 2:
        if not (ROOT / "scripts" / f"{words[2]}.py").exists():
            pytest.fail(f"ape run {words[2]}: no such script")
        return script_command(words[2]), words[3:]
    if not words or words[0] != "livepool":
        return None
    command: click.Command = livepool_cli
    rest = words[1:]
    while isinstance(command, click.Group) and rest and not rest[0].startswith("-"):
        sub = command.get_command(click.Context(command), rest[0])
        assert sub is not None, f"livepool: no command {rest[0]!r} in {' '.join(words)}"
        command, rest = sub, rest[1:]
        if command.name in SCRIPT_OF:
            return script_command(SCRIPT_OF[command.name]), rest
        if command.name == "chain" and rest:
            return script_command(rest[0]), rest[1:]
    return command, rest


def _words(line: str) -> list[str]:
    try:
        return shlex.split(line.split("|")[0].split(" > ")[0])
    except ValueError:
        return line.split()


DOC_LINES = [
    pytest.param(line, id=f"{path.name}:{line[:60]}")
    for path in GUIDES
    for line in commands(path)
    if _words(line)[:1] == ["livepool"] or _words(line)[:2] == ["ape", "run"]
]


@pytest.mark.parametrize("line", DOC_LINES)
def test_guide_command__exists_with_its_options(line):
    resolved = resolve(_words(line))
    assert resolved is not None
    command, rest = resolved
    known = options_of(command)
    used = {w.split("=")[0] for w in rest if w.startswith("-")}
    assert used <= known, f"{line}: unknown option(s) {sorted(used - known)}"


def runnable(path: Path) -> list[list[str]]:
    """Per ``sh`` block, the commands this test may run (blocks with none left out)."""
    out = []
    for block in blocks(path):
        lines = []
        for line in block:
            words = _words(line)
            ours = words[:1] == ["livepool"] and len(words) > 1 and words[1] in RUNNABLE
            if ours and not PLACEHOLDER.search(line):
                lines.append(line)
        if lines:
            out.append(lines)
    return out


RUNNABLE_GUIDES = [pytest.param(p, id=p.name) for p in GUIDES if runnable(p)]


@pytest.mark.parametrize("path", RUNNABLE_GUIDES)
def test_guide__offline_commands__run_as_written(path, tmp_path):
    """Each ``sh`` block runs in a fresh folder of its own: a block is what a reader types
    in one go (the README's accountant and operator sections each configure a pool)."""
    bin_dir = Path(sys.executable).parent
    # What a guide's reader has before its commands: a configured pool, a receipts file.
    prelude = [
        "livepool config --fee-address 0x90F79bf6EB2c4f870365E785982E1f101E93b906 "
        "--genesis 1764000000",
        "livepool simulate --miners 5 --receipts 500 --seed 1 --start 1764000000 "
        "--out receipts.jsonl",
    ]
    for number, block in enumerate(runnable(path)):
        folder = tmp_path / f"block-{number}"
        folder.mkdir()
        env = {
            **os.environ,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "LIVEPOOL_DATA_DIR": str(folder / "data"),
        }
        env.pop("LIVEPOOL_DATABASE_URL", None)
        for line in [*prelude, *block]:
            result = subprocess.run(
                ["bash", "-c", line], cwd=folder, env=env, capture_output=True, text=True,
                timeout=300,
            )  # fmt: skip
            assert result.returncode == 0, (
                f"{path.name}: `{line}`\n{result.stdout}\n{result.stderr}"
            )
