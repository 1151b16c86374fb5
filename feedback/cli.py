"""The `touchpulse` command: serve, migrate, demo, keys."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from feedback.service import migrations
from feedback.service.database import connect, resolve_database_url
from feedback.service.logs import configure_logging
from feedback.settings import Settings, SettingsError, load_settings, log_level_number


def _fail(message: str) -> int:
    print(f"touchpulse: {message}", file=sys.stderr)
    return 2


async def _migrate(url: str) -> list[str]:
    async with connect(url) as conn:
        return await migrations.migrate(conn)


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    url = resolve_database_url(settings)
    applied = asyncio.run(_migrate(url))
    print(f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied else ", schema is current"))
    return 0


async def _demo(settings: Settings, url: str) -> str:
    from feedback.demo.loader import load_demo

    async with connect(url) as conn:
        await migrations.migrate(conn)
        summary = await load_demo(conn, settings)
    return "demo data loaded" if summary.created else "the database already holds a journey; demo not loaded"


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    print(asyncio.run(_demo(settings, resolve_database_url(settings))))
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from feedback.service.urls import startup_banner

    url = resolve_database_url(settings)
    asyncio.run(_migrate(url))
    if args.demo:
        print(asyncio.run(_demo(settings, url)))
    print(asyncio.run(startup_banner(settings, url, demo=args.demo)), flush=True)
    os.environ["TOUCHPULSE_RESOLVED_DATABASE_URL"] = url
    uvicorn.run(
        "feedback.service.app:app_from_env", factory=True, host=settings.host, port=settings.port,
        workers=settings.workers if settings.workers > 1 else None, log_config=None,
        timeout_graceful_shutdown=10, access_log=False, server_header=False,
    )
    return 0


async def _with_conn(url: str, work: Callable[[Any], Awaitable[int]]) -> int:
    async with connect(url) as conn:
        if await migrations.pending(conn):
            await migrations.migrate(conn)
        return await work(conn)


def cmd_keys(settings: Settings, args: argparse.Namespace) -> int:
    from feedback.access import repository, service
    from feedback.access.models import NewKey, Role
    from surveys.errors import ApplicationError

    url = resolve_database_url(settings)

    async def create(conn: Any) -> int:
        try:
            record, key = await service.create_key(
                conn, NewKey(role=Role(args.role), owner_id=args.owner, name=args.name or "")
            )
        except ApplicationError as exc:
            return _fail(exc.detail)
        owner = f" for owner {record.owner_id}" if record.owner_id else ""
        print(f"created {record.role.value} key {record.id}{owner}; it is shown once, keep it safe:")
        print(key)
        return 0

    async def list_keys(conn: Any) -> int:
        keys = await repository.list_keys(conn)
        if not keys:
            print("no API keys yet: touchpulse keys create --role admin")
        for k in keys:
            state = f"revoked {k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "active"
            owner = f"owner={k.owner_id}" if k.owner_id else ""
            print(f"{k.id:>5}  {k.role.value:<7} tp_{k.prefix}_…  {state:<24} {owner:<10} {k.name}")
        return 0

    async def revoke(conn: Any) -> int:
        try:
            record = await service.revoke_key(conn, args.id)
        except ApplicationError as exc:
            return _fail(exc.detail)
        print(f"revoked key {record.id} ({record.role.value})")
        return 0

    action = {"create": create, "list": list_keys, "revoke": revoke}[args.keys_command]
    return asyncio.run(_with_conn(url, action))


def cmd_rescore(settings: Settings, args: argparse.Namespace) -> int:
    from feedback.insight.rescore import rescore
    from feedback.sentiment import ANALYZER_VERSION

    if args.batch < 1:
        return _fail("--batch must be at least 1")
    url = resolve_database_url(settings)

    async def work(conn: Any) -> int:
        done = await rescore(conn, everything=args.all, batch=args.batch)
        print(f"rescored {done} response(s) with analyser version {ANALYZER_VERSION}")
        return 0

    return asyncio.run(_with_conn(url, work))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="touchpulse", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="apply migrations and serve HTTP")
    serve.add_argument("--demo", action="store_true", help="load the demo journey when the database is empty")
    serve.set_defaults(run=cmd_serve)
    sub.add_parser("migrate", help="apply pending migrations").set_defaults(run=cmd_migrate)
    sub.add_parser("demo", help="load the demo journey, owners, touchpoints and responses").set_defaults(
        run=cmd_demo
    )
    keys = sub.add_parser("keys", help="create, list and revoke API keys")
    keys.set_defaults(run=cmd_keys)
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    create = keys_sub.add_parser("create", help="create a key; prints it once, as the last line")
    create.add_argument("--role", required=True, choices=["admin", "owner", "ingest"])
    create.add_argument("--owner", type=int, help="the owner id of an owner key")
    create.add_argument("--name", help="what the key is for")
    keys_sub.add_parser("list", help="list keys (never the keys themselves)")
    revoke = keys_sub.add_parser("revoke", help="revoke a key by id")
    revoke.add_argument("id", type=int)
    rescore = sub.add_parser(
        "rescore", help="recompute sentiment and themes of responses read by an older analyser")
    rescore.add_argument("--all", action="store_true", help="every response, whatever its version")
    rescore.add_argument("--batch", type=int, default=1000, help="responses per transaction")
    rescore.set_defaults(run=cmd_rescore)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        return _fail(str(exc))
    # Only the server logs to stdout: a command's own output (a new key) stays clean there.
    configure_logging(log_level_number(settings), None if args.command == "serve" else sys.stderr)
    try:
        code: int = args.run(settings, args)
    except migrations.MigrationError as exc:
        return _fail(f"refusing to start: {exc}")
    except (OSError, ConnectionError) as exc:
        return _fail(f"cannot reach the database: {exc}")
    except RuntimeError as exc:  # the embedded server missing or failing to start
        return _fail(str(exc))
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
