"""The `touchpulse` command: serve, migrate, demo, keys, share, rescore."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import sys
import unicodedata
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, NoReturn

import asyncpg

from feedback.service import migrations
from feedback.service.database import connect, resolve_database_url
from feedback.service.logs import configure_logging
from feedback.settings import Settings, SettingsError, load_settings, log_level_number
from surveys.errors import ApplicationError


def _fail(message: str) -> int:
    print(f"touchpulse: {message}", file=sys.stderr)
    return 2


# PostgreSQL's bigint: an id beyond it names nothing, and the database would refuse it in its words.
_MAX_ID = 2**63 - 1
# A rescore batch is one transaction, its rows held in memory at once.
_MAX_BATCH = 1_000_000


def _id(text: str) -> int:
    """An id option's value: a whole number from 1 to PostgreSQL's bigint ceiling."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if not 1 <= value <= _MAX_ID:
        raise argparse.ArgumentTypeError(f"{text} is not an id: ids are whole numbers from 1 to {_MAX_ID}")
    return value


def _text(text: str) -> str:
    """A text option's value, refused if the shell passed bytes that are not UTF-8."""
    try:
        text.encode()
    except UnicodeEncodeError:
        raise argparse.ArgumentTypeError("is not UTF-8 text") from None
    return text


# The bidi controls: marks (LRM, RLM, ALM), embeddings and overrides (U+202A–U+202E) and
# isolates (U+2066–U+2069). Each reorders the text after it on the terminal's line.
_BIDI = frozenset("\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _shown(text: str) -> str:
    """`text` for the terminal, its control characters escaped as Python writes them (\\x1b, \\n)
    and its bidi controls as \\u202e.

    A new name may not hold a control character, but a key named before that rule may: an escape
    sequence would move the cursor or recolour the terminal, a newline would split its line. A
    bidi control is allowed in names (it spells some scripts), but printed raw it reverses or
    reorders the line it is printed on.
    """
    return "".join(repr(c)[1:-1] if unicodedata.category(c) == "Cc" else
                   f"\\u{ord(c):04x}" if c in _BIDI else c for c in text)


def _said(exc: ApplicationError, options: Mapping[str, str] | None = None) -> str:
    """What a service refused, without the API's field names (`owner_id: ...`): the options differ.
    A field in `options` is named by its option, for a message that does not name it itself."""
    named = options or {}
    return "; ".join(f"{named[e.field]} {e.message}" if e.field in named else e.message
                     for e in exc.errors) if exc.errors else exc.detail


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
    return "demo data loaded" if summary.created else f"{summary.skipped_because}; demo not loaded"


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    print(asyncio.run(_demo(settings, resolve_database_url(settings))))
    return 0


def _port_taken(host: str, port: int) -> str | None:
    """Why the server could not listen on host:port, or None when it can."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        # As uvicorn binds: a port left in TIME_WAIT by a previous run is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from feedback.service.urls import startup_banner

    # Before the database and the banner, so the one line printed is the one to act on.
    taken = _port_taken(settings.host, settings.port)
    if taken is not None:
        return _fail(f"cannot listen on {settings.host}:{settings.port} ({taken}): is Touchpulse "
                     f"already running? Stop it, or choose another port, e.g. PORT={settings.port + 1}")
    if settings.embedded:
        # uvicorn re-raises the SIGTERM it caught once it has shut down; by default that ends
        # the process before the exit handlers that stop the embedded PostgreSQL could run.
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
    if settings.embedded:
        print(f"Starting the embedded PostgreSQL in {settings.data_dir / 'pgdata'}...", flush=True)
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

    url = resolve_database_url(settings)

    async def create(conn: Any) -> int:
        try:
            record, key = await service.create_key(
                conn, NewKey(role=Role(args.role), owner_id=args.owner, name=args.name or "")
            )
        except ApplicationError as exc:
            return _fail(_said(exc, {"name": "--name"}))
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
            print(f"{k.id:>5}  {k.role.value:<7} tp_{k.prefix}_…  {state:<24} {owner:<10} {_shown(k.name)}")
        return 0

    async def revoke(conn: Any) -> int:
        try:
            record = await service.revoke_key(conn, args.id)
        except ApplicationError as exc:
            return _fail(exc.detail)
        # A second revoke changes nothing: the time tells a key revoked earlier from one revoked now.
        since = f"{record.revoked_at:%Y-%m-%d %H:%M:%S} UTC" if record.revoked_at else "now"
        print(f"revoked key {record.id} ({record.role.value}); refused since {since}")
        return 0

    action = {"create": create, "list": list_keys, "revoke": revoke}[args.keys_command]
    return asyncio.run(_with_conn(url, action))


def cmd_share(settings: Settings, args: argparse.Namespace) -> int:
    from feedback.insight import service
    from feedback.insight.models import ShareTarget
    from feedback.insight.sharing import MAX_DAYS

    target: ShareTarget = "owner" if args.owner is not None else "journey"
    target_id: int = args.owner if args.owner is not None else args.journey
    what = f"owner {target_id}'s report" if target == "owner" else f"journey {target_id}'s map"
    if args.share_command == "link" and not 1 <= args.days <= MAX_DAYS:
        return _fail(f"--days must be between 1 and {MAX_DAYS}")
    url = resolve_database_url(settings)

    async def link(conn: Any) -> int:
        try:
            made = await service.share_link(conn, settings, target, target_id, args.days)
        except ApplicationError as exc:
            return _fail(_said(exc))
        if not settings.base_url_configured:
            print(f"touchpulse: TOUCHPULSE_BASE_URL is not set, so the link starts with {settings.base_url}; "
                  "set it to the address people open Touchpulse at", file=sys.stderr)
        print(f"a link to {what}; it opens without a key until {made.expires_at:%Y-%m-%d %H:%M} UTC "
              f"or `touchpulse share revoke --{target} {target_id}`:")
        print(made.url)
        return 0

    async def revoke(conn: Any) -> int:
        try:
            done = await service.revoke_share_links(conn, target, target_id)
        except ApplicationError as exc:
            return _fail(_said(exc))
        print(f"revoked every share link to {what} made until {done.revoked_at:%Y-%m-%d %H:%M:%S} UTC; "
              "links made from now on work")
        return 0

    action = {"link": link, "revoke": revoke}[args.share_command]
    return asyncio.run(_with_conn(url, action))


def cmd_rescore(settings: Settings, args: argparse.Namespace) -> int:
    from feedback.insight.rescore import rescore
    from feedback.sentiment import ANALYZER_VERSION

    if not 1 <= args.batch <= _MAX_BATCH:
        return _fail(f"--batch must be between 1 and {_MAX_BATCH:,}")
    url = resolve_database_url(settings)

    async def work(conn: Any) -> int:
        done = await rescore(conn, everything=args.all, batch=args.batch)
        print(f"rescored {done} response(s) with analyser version {ANALYZER_VERSION}")
        return 0

    return asyncio.run(_with_conn(url, work))


_ENVIRONMENT = """\
environment:
  DATABASE_URL           postgresql://user:password@host:5432/db; unset: the embedded
                         PostgreSQL in TOUCHPULSE_DATA_DIR (development)
  TOUCHPULSE_SECRET_KEY  at least 32 characters; required with DATABASE_URL
  TOUCHPULSE_DATA_DIR    the embedded PostgreSQL's data and the development secret (./var)
  HOST, PORT             where `serve` listens (127.0.0.1, 8000)
  TOUCHPULSE_BASE_URL    what survey and share links start with (http://HOST:PORT); when
                         set, the /docs quick start's commands use it too
  TOUCHPULSE_CLICK_RETENTION_DAYS
                         days a survey link's click keeps its user agent (30)
  TOUCHPULSE_INVITATION_RETENTION_DAYS
                         days an invitation keeps its customer reference, context and
                         event id (400; more than 365, the longest a link stays open)
  TOUCHPULSE_AUTO_RESCORE
                         on: after an upgrade, the server re-reads answers stored by an
                         older analyser in the background (on; 0 or off: only `rescore`)
  README.md lists the others. A bad value stops every command with one line naming it.
"""


class _Parser(argparse.ArgumentParser):
    """Bad arguments stop a command with one line, like a bad setting, and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


_DESCRIPTION = """\
Run Touchpulse and look after its data. Every command reads the environment the server
reads (below), and applies pending migrations before it uses the database.
"""


def parser() -> argparse.ArgumentParser:
    from feedback.insight.sharing import MAX_DAYS

    p = _Parser(prog="touchpulse", description=_DESCRIPTION, epilog=_ENVIRONMENT,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True, title="commands", metavar="COMMAND")

    def command(name: str, summary: str) -> argparse.ArgumentParser:
        # The summary is both the line in `touchpulse --help` and the text of `touchpulse NAME --help`.
        return sub.add_parser(name, help=summary, description=summary[0].upper() + summary[1:] + ".")

    serve = command("serve", "apply pending migrations, then serve HTTP on HOST:PORT until Ctrl-C or SIGTERM")
    serve.add_argument("--demo", action="store_true",
                       help="load the demo journey when the database holds no journey, and print 30-day share links "
                            "to it and a live survey link")
    serve.set_defaults(run=cmd_serve)
    command("migrate", "apply pending migrations and exit; safe while other instances start "
            "(an advisory lock)").set_defaults(run=cmd_migrate)
    command("demo", "load the demo journey, owners, touchpoints and responses "
            "when the database holds no journey").set_defaults(run=cmd_demo)
    keys = command("keys", "create, list and revoke API keys")
    keys.set_defaults(run=cmd_keys)
    keys_sub = keys.add_subparsers(dest="keys_command", required=True, title="actions", metavar="ACTION")
    create = keys_sub.add_parser("create", help="create a key; prints it once, as the last line",
                                 description="Create a key; it is printed once, as the last line of stdout.")
    create.add_argument("--role", required=True, choices=["admin", "owner", "ingest"],
                        help="admin: everything; owner: reads its owner's data; ingest: invitations and answers")
    create.add_argument("--owner", type=_id, metavar="ID", help="the owner of an owner key (required with --role owner)")
    create.add_argument("--name", type=_text, help="what the key is for: one line, no control characters, up to 200 characters")
    keys_sub.add_parser("list", help="list keys (never the keys themselves)",
                        description="List keys: id, role, prefix, state, owner and name (a control character in "
                                    "a name shown escaped, as \\x1b).")
    revoke = keys_sub.add_parser("revoke", help="revoke a key by id",
                                 description="Revoke a key by id (see `keys list`); running servers refuse it at once.")
    revoke.add_argument("id", type=_id, metavar="ID", help="the key's id, the first column of `keys list`")
    share = command("share", "make and revoke share links: an owner's report or a journey map without a key")
    share.set_defaults(run=cmd_share)
    share_sub = share.add_subparsers(dest="share_command", required=True, title="actions", metavar="ACTION")

    def share_target(action: argparse.ArgumentParser) -> None:
        target = action.add_mutually_exclusive_group(required=True)
        target.add_argument("--owner", type=_id, metavar="ID", help="an owner's report")
        target.add_argument("--journey", type=_id, metavar="ID", help="a whole journey map")

    link = share_sub.add_parser(
        "link", help="make a link; prints it as the last line",
        description="Make a link that opens an owner's report (or a whole journey map) without a key until "
                    "it expires or is revoked. It is printed as the last line of stdout and starts with "
                    "TOUCHPULSE_BASE_URL.")
    share_target(link)
    link.add_argument("--days", type=int, default=7, metavar="N", help=f"days until it expires, 1 to {MAX_DAYS} (7)")
    revoke_links = share_sub.add_parser(
        "revoke", help="revoke every link made so far for an owner or a journey",
        description="Revoke every share link made so far for one owner (or one journey): they answer 404 at "
                    "once. Other owners' and journeys' links keep working, and so do links made later. An "
                    "owner's links include those opening the journey map limited to that owner.")
    share_target(revoke_links)
    rescore = command("rescore", "recompute sentiment and themes of responses read by an older analyser")
    rescore.add_argument("--all", action="store_true", help="every response, whatever its version")
    rescore.add_argument("--batch", type=int, default=1000, metavar="N", help=f"responses per transaction, 1 to {_MAX_BATCH:,} (1000)")
    rescore.set_defaults(run=cmd_rescore)
    return p


def _database_refused(exc: asyncpg.PostgresError) -> str:
    """One line for an error the database answered with, saying what to fix."""
    message = f"{exc} (SQLSTATE {exc.sqlstate})"
    if exc.sqlstate.startswith("28") or exc.sqlstate == "3D000":
        return f"the database refused the connection: {message}: check the user, password and database name in DATABASE_URL"
    if exc.sqlstate in ("42501", "3F000"):
        return (f"the database user may not change the schema: {message}: run `touchpulse migrate` "
                "as a user that owns the database (or may CREATE in its public schema)")
    return f"the database answered with an error: {message}"


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
    except asyncpg.ClientConfigurationError as exc:  # a parameter of the URL asyncpg cannot use
        return _fail(f"DATABASE_URL cannot be used: {exc}")
    except (OSError, ConnectionError) as exc:
        where = "the embedded PostgreSQL" if settings.embedded else "the server in DATABASE_URL"
        return _fail(f"cannot reach the database ({exc}): is {where} running?")
    except asyncpg.PostgresError as exc:
        return _fail(_database_refused(exc))
    except RuntimeError as exc:  # the embedded server missing or failing to start
        return _fail(str(exc))
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
