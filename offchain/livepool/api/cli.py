"""``livepool serve`` and ``livepool token create|list|revoke`` (registered in livepool.cli)."""

from __future__ import annotations

import os
import sys

import click

from livepool.config import get_settings
from livepool.errors import LivepoolError
from livepool.ledger import Ledger
from livepool.ledger import service as servicedb

__all__ = ["serve", "token"]


def _ledger(ctx: click.Context) -> Ledger:
    obj = ctx.find_root().obj or {}
    return Ledger(obj.get("database_url"), data_dir=obj.get("data_dir"))


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--workers", type=int, default=1, show_default=True, help="Worker processes.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int) -> None:
    """Run the HTTP API and the dashboard (uvicorn)."""
    import uvicorn

    obj = ctx.find_root().obj or {}
    # The workers read their settings from the environment (LIVEPOOL_*).
    if obj.get("database_url"):
        os.environ["LIVEPOOL_DATABASE_URL"] = str(obj["database_url"])
    if obj.get("data_dir"):
        os.environ["LIVEPOOL_DATA_DIR"] = str(obj["data_dir"])
    # The command line read the settings already (for its defaults): read them again,
    # with the options just exported, in this process too.
    get_settings.cache_clear()
    try:
        Ledger(obj.get("database_url"), data_dir=obj.get("data_dir")).close()  # migrate once
    except LivepoolError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    uvicorn.run(
        "livepool.api.app:_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_level="warning",
    )


@click.group()
def token() -> None:
    """Orchestrator bearer tokens for POST /v1/receipts and /v1/verdicts."""


@token.command("create")
@click.argument("orchestrator")
@click.option("--name", default="", help="A note saying whose token it is.")
@click.pass_context
def token_create(ctx: click.Context, orchestrator: str, name: str) -> None:
    """Create a token for ORCHESTRATOR; it is printed once and stored hashed."""
    from livepool.hashing import checksum_address

    try:
        address = checksum_address(orchestrator)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="ORCHESTRATOR") from None
    ledger = _ledger(ctx)
    try:
        secret, info = servicedb.create_token(ledger, address, name)
    finally:
        ledger.close()
    click.echo(f"token {info.token_id} for {address} (shown once, keep it secret):")
    click.echo(secret)


@token.command("list")
@click.pass_context
def token_list(ctx: click.Context) -> None:
    """List tokens (never their secrets)."""
    ledger = _ledger(ctx)
    try:
        tokens = servicedb.list_tokens(ledger)
    finally:
        ledger.close()
    if not tokens:
        click.echo("no tokens")
    for t in tokens:
        state = "live" if t.revoked_at is None else f"revoked at {t.revoked_at}"
        click.echo(f"{t.token_id}  {t.orchestrator}  {state}  {t.name}")


@token.command("revoke")
@click.argument("token_id")
@click.pass_context
def token_revoke(ctx: click.Context, token_id: str) -> None:
    """Revoke token TOKEN_ID (the id `token list` shows)."""
    ledger = _ledger(ctx)
    try:
        done = servicedb.revoke_token(ledger, token_id)
    finally:
        ledger.close()
    if not done:
        click.echo(f"error: no live token {token_id}", err=True)
        sys.exit(2)
    click.echo(f"revoked {token_id}")
