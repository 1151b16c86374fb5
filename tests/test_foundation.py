"""Settings, migrations, the command line and the service shell."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import unicodedata
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import msgspec
import pytest

from feedback.access.models import NewKey, Role
from feedback.access.service import create_key
from feedback.insight import sharing
from feedback.insight.models import ShareTarget
from feedback.service import migrations
from feedback.service.database import Connection, connect, create_pool
from feedback.settings import SettingsError, load_settings
from surveys.errors import FieldError, InvalidInput, NotFound
from tests.conftest import ROOT, cli_with_env, with_database


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"PORT": "eighty"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgresql://u:pw@[db/x"}, "DATABASE_URL is not a valid URL"),
        ({"DATABASE_URL": "postgresql://u:pw@db:five/x"}, "DATABASE_URL is not a valid URL"),
        ({"DATABASE_URL": "postgresql://x/y"}, "TOUCHPULSE_SECRET_KEY"),
        ({"TOUCHPULSE_SECRET_KEY": "short"}, "TOUCHPULSE_SECRET_KEY"),
        ({"TOUCHPULSE_BASE_URL": "ftp:/nowhere"}, "TOUCHPULSE_BASE_URL"),
        ({"TOUCHPULSE_MIN_N": "0"}, "TOUCHPULSE_MIN_N"),
        ({"TOUCHPULSE_BRAND_COLOUR": "#ffd700"}, "TOUCHPULSE_BRAND_COLOUR.*too light"),
        ({"TOUCHPULSE_BRAND_COLOUR": "blue"}, "TOUCHPULSE_BRAND_COLOUR"),
    ],
)
def test_a_bad_setting_is_named(env: dict[str, str], named: str, tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings({"TOUCHPULSE_DATA_DIR": str(tmp_path), **env})


def test_a_bad_database_url_is_named_without_its_password(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({"TOUCHPULSE_DATA_DIR": str(tmp_path), "DATABASE_URL": "postgresql://u:hunter2@db:x/y"})
    assert "hunter2" not in str(raised.value)


def test_a_data_folder_that_cannot_be_written_is_named(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(SettingsError, match=r"TOUCHPULSE_DATA_DIR=.* is not a folder this user can write"):
        load_settings({"TOUCHPULSE_DATA_DIR": str(tmp_path / "file" / "var")})


def test_without_database_url_or_embedded_server_says_set_database_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The container image: no embedded PostgreSQL, and the data folder is not writable.
    monkeypatch.setattr("feedback.settings._embedded_installed", lambda: False)
    with pytest.raises(SettingsError, match="DATABASE_URL is not set and the embedded PostgreSQL"):
        load_settings({"TOUCHPULSE_DATA_DIR": str(tmp_path)})


def test_development_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = load_settings({"TOUCHPULSE_DATA_DIR": str(tmp_path)})
    second = load_settings({"TOUCHPULSE_DATA_DIR": str(tmp_path)})
    assert len(first.secret_key) >= 32
    assert first.secret_key == second.secret_key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_settings_defaults(tmp_path: Path) -> None:
    s = load_settings({"TOUCHPULSE_DATA_DIR": str(tmp_path), "PORT": "9000"})
    assert s.embedded
    assert s.base_url == "http://127.0.0.1:9000"
    assert s.min_n == 30
    assert not s.sentiment_process
    on = load_settings({"TOUCHPULSE_DATA_DIR": str(tmp_path), "TOUCHPULSE_SENTIMENT_PROCESS": "1"})
    assert on.sentiment_process
    with pytest.raises(SettingsError, match="TOUCHPULSE_SENTIMENT_PROCESS"):
        load_settings({"TOUCHPULSE_DATA_DIR": str(tmp_path), "TOUCHPULSE_SENTIMENT_PROCESS": "yes"})
    assert s.commit_spin_ms == 5
    assert load_settings({"TOUCHPULSE_DATA_DIR": str(tmp_path), "TOUCHPULSE_COMMIT_SPIN_MS": "0"}).commit_spin_ms == 0
    with pytest.raises(SettingsError, match="TOUCHPULSE_COMMIT_SPIN_MS=500 must be between 0 and 100"):
        load_settings({"TOUCHPULSE_DATA_DIR": str(tmp_path), "TOUCHPULSE_COMMIT_SPIN_MS": "500"})


FreshDatabase = Callable[[str], Awaitable[str]]


@pytest.fixture
async def fresh_database(server_url: str) -> AsyncIterator[FreshDatabase]:
    """Empty databases named `<prefix>_<pid>`, dropped after the test (even a failed one)."""
    admin = await asyncpg.connect(server_url)
    made: list[str] = []

    async def make(prefix: str) -> str:
        name = f"{prefix}_{os.getpid()}"
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        return with_database(server_url, name)

    try:
        yield make
    finally:
        for name in made:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_migrations_apply_to_an_empty_database_and_rerun_is_a_no_op(fresh_database: FreshDatabase) -> None:
    url = await fresh_database("tp_mig")
    async with connect(url) as conn:
        applied = await migrations.migrate(conn)
        assert applied == [m.name for m in migrations.discover()]
        assert await migrations.migrate(conn) == []
        tables = {r["tablename"] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname='public'")}
        assert {"owners", "journeys", "stages", "touchpoints", "api_keys", "invitations", "responses",
                "touchpoint_daily", "touchpoint_daily_themes", "touchpoint_daily_funnel"} <= tables
        versions = await conn.fetch("SELECT version, checksum FROM schema_migrations ORDER BY version")
        assert [r["version"] for r in versions] == [m.version for m in migrations.discover()]
        # 0005: share links revocable per owner and per journey; existing rows start at epoch 0.
        epochs = await conn.fetch(
            "SELECT table_name, is_nullable, column_default FROM information_schema.columns "
            "WHERE table_schema = 'public' AND column_name = 'share_epoch' ORDER BY table_name")
        assert [tuple(r) for r in epochs] == [("journeys", "NO", "0"), ("owners", "NO", "0")]


async def test_0007_takes_answered_invitations_out_of_the_scanner_count(fresh_database: FreshDatabase) -> None:
    # Before 0007 an answered invitation could keep a scanner flag from the clicks before the
    # answer; the funnel's scanner count must then mean "clicked only by a scanner".
    url = await fresh_database("tp_mig_0007")
    every = migrations.discover()
    before = [m for m in every if m.version < 7]
    async with connect(url) as conn:
        await migrations.migrate(conn, before)
        tp = await conn.fetchval(
            "WITH o AS (INSERT INTO owners (name) VALUES ('Delivery') RETURNING id),"
            " j AS (INSERT INTO journeys (name) VALUES ('Shop') RETURNING id),"
            " s AS (INSERT INTO stages (journey_id, name, position) SELECT id, 'sale', 0 FROM j RETURNING id)"
            " INSERT INTO touchpoints (key, name, stage_id, channel, owner_id, kind)"
            " SELECT 'courier', 'Courier', s.id, 'email', o.id, 'csat' FROM s, o RETURNING id")
        for answered, n in ((True, 1), (False, 2), (True, 3)):
            await conn.execute(
                "INSERT INTO invitations (touchpoint_id, id, customer_ref, channel, decision, token_hash,"
                " expires_at, first_clicked_at, answered_at, suspected_scanner)"
                " VALUES ($1, gen_random_uuid(), $2, 'email', 'sent', $3, now() + interval '1 day', now(),"
                " CASE WHEN $4 THEN now() END, $5)",
                tp, f"c{n}", bytes([n]), answered, n < 3)
        funnel = "SELECT sum(clicked), sum(answered), sum(scanner) FROM touchpoint_daily_funnel"
        assert tuple(await conn.fetchrow(funnel) or ()) == (3, 2, 2)
        assert await migrations.migrate(conn, [m for m in every if m.version <= 7]) == [
            "0007_answered_not_scanners.sql"]
        flags = await conn.fetch("SELECT customer_ref, suspected_scanner FROM invitations ORDER BY customer_ref")
        assert [tuple(r) for r in flags] == [("c1", False), ("c2", True), ("c3", False)]
        assert tuple(await conn.fetchrow(funnel) or ()) == (3, 2, 1)


async def test_0011_counts_people_who_clicked_after_a_scanner(fresh_database: FreshDatabase) -> None:
    # Marked under the old rule: a scanner's burst, then the customer's click an hour later
    # (c1); a scanner's burst alone (c2); a burst, then the customer's answer (c3, cleared).
    url = await fresh_database("tp_mig_0011")
    every = migrations.discover()
    async with connect(url) as conn:
        await migrations.migrate(conn, [m for m in every if m.version < 11])
        tp = await conn.fetchval(
            "WITH o AS (INSERT INTO owners (name) VALUES ('Delivery') RETURNING id),"
            " j AS (INSERT INTO journeys (name) VALUES ('Shop') RETURNING id),"
            " s AS (INSERT INTO stages (journey_id, name, position) SELECT id, 'sale', 0 FROM j RETURNING id)"
            " INSERT INTO touchpoints (key, name, stage_id, channel, owner_id, kind)"
            " SELECT 'courier', 'Courier', s.id, 'email', o.id, 'csat' FROM s, o RETURNING id")
        for n, later in ((1, True), (2, False), (3, False)):
            inv = await conn.fetchval(
                "INSERT INTO invitations (touchpoint_id, id, customer_ref, channel, decision, token_hash,"
                " expires_at, first_clicked_at, answered_at, suspected_scanner)"
                " VALUES ($1, gen_random_uuid(), $2, 'email', 'sent', $3, now() + interval '1 day',"
                " now() - interval '1 hour', CASE WHEN $4 THEN now() END, NOT $4) RETURNING id",
                tp, f"c{n}", bytes([n]), n == 3)
            await conn.execute(
                "INSERT INTO invitation_clicks (touchpoint_id, invitation_id, score, clicked_at)"
                " SELECT $1, $2, s, now() - interval '1 hour' + s * interval '1 second' FROM generate_series(1, 3) s",
                tp, inv)
            if later:
                await conn.execute("INSERT INTO invitation_clicks (touchpoint_id, invitation_id) VALUES ($1, $2)",
                                   tp, inv)
        funnel = "SELECT sum(clicked), sum(answered), sum(scanner) FROM touchpoint_daily_funnel"
        assert tuple(await conn.fetchrow(funnel) or ()) == (3, 1, 2)
        assert await migrations.migrate(conn, every) == [m.name for m in every if m.version >= 11]
        flags = await conn.fetch("SELECT customer_ref, suspected_scanner FROM invitations ORDER BY customer_ref")
        assert [tuple(r) for r in flags] == [("c1", False), ("c2", True), ("c3", False)]
        assert tuple(await conn.fetchrow(funnel) or ()) == (3, 1, 1)


async def test_a_changed_migration_refuses_to_start(fresh_database: FreshDatabase, tmp_path: Path) -> None:
    url = await fresh_database("tp_mig_changed")
    (tmp_path / "0001_first.sql").write_text("CREATE TABLE one (id int);")
    async with connect(url) as conn:
        await migrations.migrate(conn, migrations.discover(tmp_path))
        (tmp_path / "0001_first.sql").write_text("CREATE TABLE one (id bigint);")
        with pytest.raises(migrations.MigrationError, match="was changed after it was applied"):
            await migrations.migrate(conn, migrations.discover(tmp_path))


async def test_a_gap_in_the_numbers_is_fine_and_a_late_file_is_applied(fresh_database: FreshDatabase, tmp_path: Path) -> None:
    # Two branches may each add a migration: 0006 can arrive before 0005, and 0005 after it.
    url = await fresh_database("tp_mig_gap")
    (tmp_path / "0001_first.sql").write_text("CREATE TABLE one (id int);")
    (tmp_path / "0003_third.sql").write_text("CREATE TABLE three (id int);")
    async with connect(url) as conn:
        assert await migrations.migrate(conn, migrations.discover(tmp_path)) == ["0001_first.sql", "0003_third.sql"]
        (tmp_path / "0002_second.sql").write_text("CREATE TABLE two (id int);")
        assert await migrations.migrate(conn, migrations.discover(tmp_path)) == ["0002_second.sql"]
        assert await migrations.pending(conn, migrations.discover(tmp_path)) == []


async def test_concurrent_migrators_apply_each_file_once(fresh_database: FreshDatabase) -> None:
    url = await fresh_database("tp_mig_race")

    async def run() -> list[str]:
        async with connect(url) as conn:
            return await migrations.migrate(conn)

    results = await asyncio.gather(*(run() for _ in range(4)))
    assert sorted(len(r) for r in results) == [0, 0, 0, len(migrations.discover())]


async def test_readiness_fails_while_migrations_are_pending(fresh_database: FreshDatabase, tmp_path: Path) -> None:
    from feedback.service.app import create_app
    from feedback.settings import Settings

    url = await fresh_database("tp_unready")
    app = create_app(Settings(database_url=url, secret_key="k" * 40, data_dir=tmp_path), url)
    async with app.lifespan():
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            r = await client.get("/readyz")
            assert r.status_code == 503
            assert "pending migrations" in r.json()["detail"]


def _cli(*args: str, database_url: str, tmp_path: Path,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "TOUCHPULSE_SECRET_KEY": "s" * 40,
           "TOUCHPULSE_DATA_DIR": str(tmp_path), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "feedback.cli", *args], env=env, capture_output=True, text=True,
        timeout=120, cwd=ROOT, check=False,
    )


def test_cli_keys_create_list_revoke(database_url: str, tmp_path: Path) -> None:
    created = _cli("keys", "create", "--role", "admin", "--name", "ci", database_url=database_url,
                   tmp_path=tmp_path)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("tp_")
    assert len(key) > 40
    listed = _cli("keys", "list", database_url=database_url, tmp_path=tmp_path)
    assert "admin" in listed.stdout
    assert key not in listed.stdout
    bad_owner = _cli("keys", "create", "--role", "owner", "--owner", "999", database_url=database_url,
                     tmp_path=tmp_path)
    # In the command's words, not the API's (`owner_id: ...`).
    assert _one_line(bad_owner) == "touchpulse: owner 999 does not exist"
    revoked = _cli("keys", "revoke", "1", database_url=database_url, tmp_path=tmp_path)
    assert revoked.returncode == 0, revoked.stderr
    assert "revoked key 1" in revoked.stdout
    again = _cli("keys", "revoke", "1", database_url=database_url, tmp_path=tmp_path)
    # Revoking again keeps the first time: it says since when the key has been refused.
    since = revoked.stdout.strip().rsplit("refused since ", 1)[1]
    assert again.returncode == 0 and again.stdout.strip().endswith(f"refused since {since}"), again.stdout
    unknown = _cli("keys", "revoke", "999", database_url=database_url, tmp_path=tmp_path)
    assert _one_line(unknown) == "touchpulse: API key 999 does not exist"


async def test_cli_keys_list_escapes_control_characters_in_names(
        database_url: str, conn: Connection, tmp_path: Path) -> None:
    # Names made before control characters were refused keep them; `keys list` printed them raw,
    # so an escape sequence moved the terminal's cursor or changed its colours.
    # A bidi control (U+202E reverses what follows it) reordered the rest of the line, so the
    # name could make it say something else; the other formatting characters are left alone.
    names = ["ci\x1b[2J\x1b[31mbot", "two\nlines", "bell\x07\x85\x7f", "lap\u202etop \\x1b",
             "\u200e\u200f\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069\u061c", "zero\u200bwidth"]
    for n, name in enumerate(names):
        await conn.execute("INSERT INTO api_keys (name, role, prefix, key_hash) VALUES ($1, 'admin', $2, $3)",
                           name, f"{n:08x}", bytes([n]) * 32)
    listed = await asyncio.to_thread(_cli, "keys", "list", database_url=database_url, tmp_path=tmp_path)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert len(lines) == len(names)  # one line each: a newline in a name splits none
    assert [line.rsplit("  ", 1)[-1].strip() for line in lines] == [
        "ci\\x1b[2J\\x1b[31mbot", "two\\nlines", "bell\\x07\\x85\\x7f", "lap\\u202etop \\x1b",
        "\\u200e\\u200f\\u202a\\u202b\\u202c\\u202d\\u2066\\u2067\\u2068\\u2069\\u061c", "zero\u200bwidth"]
    assert not any(unicodedata.category(c) == "Cc" for c in listed.stdout.replace("\n", ""))
    assert not any(unicodedata.bidirectional(c) in ("LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI")
                   or c in "\u200e\u200f\u061c" for c in listed.stdout)


def test_cli_keys_create_refuses_a_name_with_a_control_character(
        database_url: str, tmp_path: Path) -> None:
    # Every other stored name refused them; a key's did not, and a newline in it split its
    # `keys list` line in two (an escape sequence would restyle the terminal).
    for name in ("ci\nbot", "ci\x1b[2Jbot", "ci\tbot", "ci\x85bot"):
        refused = _cli("keys", "create", "--role", "admin", "--name", name, database_url=database_url,
                       tmp_path=tmp_path)
        assert _one_line(refused) == ("touchpulse: --name may not contain control characters "
                                      "(tab, newline and the like)"), repr(name)
    too_long = _cli("keys", "create", "--role", "admin", "--name", "k" * 201, database_url=database_url,
                    tmp_path=tmp_path)
    assert _one_line(too_long) == "touchpulse: --name may be at most 200 characters"
    # Spaces and a newline around it are trimmed, as around any name.
    created = _cli("keys", "create", "--role", "ingest", "--name", "  shop \n", database_url=database_url,
                   tmp_path=tmp_path)
    assert created.returncode == 0, created.stderr
    listed = _cli("keys", "list", database_url=database_url, tmp_path=tmp_path).stdout.splitlines()
    assert len(listed) == 1 and listed[0].endswith(" shop"), listed


async def test_a_key_name_with_a_control_character_is_a_422_naming_name(conn: Connection) -> None:
    # What an API creating keys would answer: the type refuses it when a body is decoded, and
    # the service refuses it whoever builds the NewKey.
    with pytest.raises(msgspec.ValidationError, match=r"at `\$.name`"):
        msgspec.json.decode(b'{"role": "admin", "name": "ci\\u001bbot"}', type=NewKey)
    with pytest.raises(InvalidInput) as refused:
        await create_key(conn, NewKey(role=Role.ADMIN, name="ci\x07bot"))
    assert refused.value.status == 422
    assert refused.value.errors == [FieldError("name", "may not contain control characters "
                                                       "(tab, newline and the like)")]
    record, _ = await create_key(conn, NewKey(role=Role.ADMIN, name=" lap\u202etop "))
    assert record.name == "lap\u202etop"  # a format character is no control, as in other names


def test_cli_help_explains_each_command_and_the_environment() -> None:
    def help_of(*args: str) -> str:
        result = subprocess.run([sys.executable, "-m", "feedback.cli", *args, "--help"], capture_output=True,
                                text=True, timeout=60, cwd=ROOT, check=True)
        return result.stdout

    top = help_of()
    assert "DATABASE_URL" in top
    assert "TOUCHPULSE_SECRET_KEY" in top
    for command in ("serve", "migrate", "demo", "keys", "share", "rescore"):
        assert f"\n    {command} " in top
        # Each command's own help says what it does, not only its options.
        assert help_of(command).split("\n\n")[1][0].isupper(), help_of(command)
    assert "advisory lock" in help_of("migrate")
    assert "TOUCHPULSE_BASE_URL" in top  # what `share link` prints starts with it
    for action in ("keys create", "keys list", "keys revoke", "share link", "share revoke"):
        assert help_of(*action.split()).split("\n\n")[1][0].isupper(), action
    # Every value an option or argument takes is named, and the defaults are said.
    assert "--owner ID" in help_of("keys", "create") and "ID " in help_of("keys", "revoke")
    assert "(--owner ID | --journey ID)" in help_of("share", "revoke")
    assert "--batch N" in help_of("rescore") and "(1000)" in help_of("rescore")
    assert "{" not in top.split("\n")[0]  # `COMMAND`, not a list of every command in the usage
    # What an operator should know before running any command against production.
    assert "applies pending migrations before it uses the database" in " ".join(top.split())
    # `serve --demo` and `demo` load under the same condition, and say it the same way.
    assert "when the database holds no journey" in " ".join(help_of("serve").split())


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ((), "touchpulse: the following arguments are required: COMMAND (see `touchpulse --help`)"),
        (("keys", "revoke", "x"), "touchpulse keys revoke: argument ID: invalid int value: 'x'"),
        (("share", "revoke"), "touchpulse share revoke: one of the arguments --owner --journey is required"),
        (("share", "link", "--owner", "1", "--journey", "1"),
         "touchpulse share link: argument --journey: not allowed with argument --owner"),
        # Ids beyond PostgreSQL's bigint were the database's words: "invalid input for query
        # argument $1: 9223372036854775808 (value out of int64 range) (SQLSTATE 22000)".
        (("keys", "revoke", "0"), "touchpulse keys revoke: argument ID: 0 is not an id: ids are whole numbers "
                                  "from 1 to 9223372036854775807"),
        (("keys", "revoke", str(2**63)), f"touchpulse keys revoke: argument ID: {2**63} is not an id"),
        (("keys", "create", "--role", "owner", "--owner", str(2**70)),
         f"touchpulse keys create: argument --owner: {2**70} is not an id"),
        (("share", "link", "--owner", "-1"), "touchpulse share link: argument --owner: -1 is not an id"),
        (("share", "revoke", "--journey", str(2**63)), f"touchpulse share revoke: argument --journey: {2**63} is not"),
        (("rescore", "--batch", str(2**63)), "touchpulse: --batch must be between 1 and 1,000,000"),
        (("keys", "create", "--role", "root"), "touchpulse keys create: argument --role: invalid choice: 'root'"),
        # Bytes that are not UTF-8, as a shell may pass them (surrogate escapes here).
        (("keys", "create", "--role", "admin", "--name", "ci\udcffbot"),
         "touchpulse keys create: argument --name: is not UTF-8 text"),
    ],
)
def test_cli_bad_arguments_stop_in_one_line(args: tuple[str, ...], says: str, tmp_path: Path) -> None:
    line = _one_line(_cli(*args, database_url="postgresql://u@127.0.0.1:1/x", tmp_path=tmp_path))
    assert line.startswith(says), line


async def test_cli_share_link_and_revoke(database_url: str, conn: Connection, tmp_path: Path) -> None:
    from feedback.insight.service import check_share

    owner = await conn.fetchval("INSERT INTO owners (name) VALUES ('Support') RETURNING id")
    other = await conn.fetchval("INSERT INTO owners (name) VALUES ('Delivery') RETURNING id")
    journey = await conn.fetchval("INSERT INTO journeys (name) VALUES ('Shop') RETURNING id")
    base = {"TOUCHPULSE_BASE_URL": "https://cx.example.com/"}

    async def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(_cli, *args, database_url=database_url, tmp_path=tmp_path, env=base)

    async def link(*args: str) -> str:
        made = await cli("share", "link", *args)
        assert made.returncode == 0, made.stderr
        assert made.stderr == ""  # TOUCHPULSE_BASE_URL is set: nothing to warn about
        return made.stdout.strip().splitlines()[-1]

    async def opens(target: ShareTarget, target_id: int, url: str) -> bool:
        try:
            await check_share(conn, "s" * 40, target, target_id, url.split("share=")[1])
        except NotFound:
            return False
        return True

    owners = await link("--owner", str(owner), "--days", "3")
    assert owners.startswith(f"https://cx.example.com/reports/owners/{owner}?share=")
    expiry = int.from_bytes(sharing.read_token(owners.split("share=")[1])[0], "big")
    assert abs(expiry - (time.time() + 3 * 86_400)) < 60
    others = await link("--owner", str(other))
    maps = await link("--journey", str(journey))
    assert maps.startswith(f"https://cx.example.com/reports/journeys/{journey}?share=")
    assert await opens("owner", owner, owners) and await opens("journey", journey, maps)

    revoked = await cli("share", "revoke", "--owner", str(owner))
    assert revoked.returncode == 0, revoked.stderr
    assert f"revoked every share link to owner {owner}'s report" in revoked.stdout
    # The same revocation as the API's: that owner's links only.
    assert not await opens("owner", owner, owners)
    assert await opens("owner", other, others) and await opens("journey", journey, maps)
    assert await opens("owner", owner, await link("--owner", str(owner)))  # made after: works
    assert (await cli("share", "revoke", "--journey", str(journey))).returncode == 0
    assert not await opens("journey", journey, maps)

    for args, says in [
        (("revoke", "--owner", "999"), "touchpulse: Owner 999 does not exist."),
        (("revoke", "--journey", "999"), "touchpulse: Journey 999 does not exist."),
        (("link", "--owner", "999"), "touchpulse: Owner 999 does not exist."),
        (("link", "--owner", str(owner), "--days", "0"), "touchpulse: --days must be between 1 and 365"),
        (("link", "--journey", str(journey), "--days", "366"), "touchpulse: --days must be between 1 and 365"),
    ]:
        assert _one_line(await cli("share", *args)) == says


async def test_cli_share_link_says_when_the_base_url_is_the_default(
        database_url: str, conn: Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    owner = await conn.fetchval("INSERT INTO owners (name) VALUES ('Support') RETURNING id")
    monkeypatch.delenv("TOUCHPULSE_BASE_URL", raising=False)
    made = await asyncio.to_thread(_cli, "share", "link", "--owner", str(owner), database_url=database_url,
                                   tmp_path=tmp_path, env={"PORT": "8123"})
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip().splitlines()[-1].startswith(f"http://127.0.0.1:8123/reports/owners/{owner}?share=")
    assert "TOUCHPULSE_BASE_URL is not set" in made.stderr


def test_cli_reports_a_bad_setting_in_one_line(tmp_path: Path) -> None:
    result = cli_with_env("migrate", env={"PORT": "nope", "TOUCHPULSE_DATA_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert result.stderr.strip() == "touchpulse: PORT='nope' is not a whole number"


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr.strip()


def test_cli_serve_on_a_busy_port_says_so_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "feedback.cli", "serve"],
            env={**os.environ, "PORT": str(port), "DATABASE_URL": "postgresql://u@127.0.0.1:1/x",
                 "TOUCHPULSE_SECRET_KEY": "s" * 40, "TOUCHPULSE_DATA_DIR": str(tmp_path)},
            capture_output=True, text=True, timeout=60, cwd=ROOT, check=False,
        )
    line = _one_line(result)
    assert f"cannot listen on 127.0.0.1:{port}" in line
    assert f"PORT={port + 1}" in line
    assert result.stdout == ""  # no banner of URLs that will not answer


def test_cli_names_what_to_fix_when_the_database_refuses(server_url: str, tmp_path: Path) -> None:
    parts = urlsplit(server_url)
    stranger = urlunsplit(parts._replace(netloc="nobody_here@" + parts.netloc.split("@")[-1]))
    line = _one_line(_cli("migrate", database_url=stranger, tmp_path=tmp_path))
    assert 'role "nobody_here" does not exist' in line
    assert "check the user, password and database name in DATABASE_URL" in line
    missing = with_database(server_url, "tp_no_such_database")
    assert 'database "tp_no_such_database" does not exist' in _one_line(
        _cli("keys", "list", database_url=missing, tmp_path=tmp_path))
    down = _one_line(_cli("migrate", database_url="postgresql://u@127.0.0.1:1/x", tmp_path=tmp_path))
    assert down.startswith("touchpulse: cannot reach the database")
    # A parameter asyncpg cannot use was a traceback and exit code 1.
    for args in (("migrate",), ("keys", "list"), ("rescore",)):
        bad = _one_line(_cli(*args, database_url="postgresql://u@127.0.0.1:1/x?sslmode=bogus", tmp_path=tmp_path))
        assert bad.startswith("touchpulse: DATABASE_URL cannot be used: `sslmode` parameter must be one of"), bad


async def test_cli_says_when_the_database_user_may_not_migrate(server_url: str, fresh_database: FreshDatabase,
                                                               tmp_path: Path) -> None:
    name = f"tp_ro_{os.getpid()}"
    url = await fresh_database("tp_ro")
    admin = await asyncpg.connect(url)
    try:
        await admin.execute(f"DROP ROLE IF EXISTS {name}")
        await admin.execute(f"CREATE ROLE {name} LOGIN")
        await admin.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
        parts = urlsplit(url)
        reader = urlunsplit(parts._replace(netloc=f"{name}@" + parts.netloc.split("@")[-1]))
        result = await asyncio.to_thread(_cli, "migrate", database_url=reader, tmp_path=tmp_path)
        line = _one_line(result)
        assert "the database user may not change the schema" in line
    finally:
        await admin.close()
        cleanup = await asyncpg.connect(server_url)
        await cleanup.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # before its role
        await cleanup.execute(f"DROP ROLE IF EXISTS {name}")
        await cleanup.close()


def test_cli_new_key_is_the_last_line_of_stdout_and_logs_go_to_stderr(database_url: str, tmp_path: Path) -> None:
    created = _cli("keys", "create", "--role", "ingest", database_url=database_url, tmp_path=tmp_path)
    assert created.returncode == 0, created.stderr
    lines = created.stdout.strip().splitlines()
    assert lines[-1].startswith("tp_")
    assert all(not line.startswith("{") for line in lines)


async def test_sessions_are_utc_whatever_the_servers_time_zone(database_url: str) -> None:
    # A server in a daylight-saving zone would stretch "30 days ago" by an hour across a change.
    async with connect(database_url) as conn:
        await conn.execute('ALTER DATABASE "%s" SET timezone = \'Europe/Berlin\'' % (
            await conn.fetchval("SELECT current_database()")))
    async with connect(database_url) as conn:
        assert await conn.fetchval("SHOW timezone") == "UTC"
        assert await conn.fetchval("SELECT now() - (now() - make_interval(days => 30))") == timedelta(days=30)
    pool = await create_pool(database_url, min_size=1, max_size=1)
    try:
        assert await pool.fetchval("SHOW timezone") == "UTC"
    finally:
        await pool.close()


def test_log_lines_leave_out_uvicorns_terminal_colours() -> None:
    from feedback.service.logs import JsonLines

    record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, "Started server process [%d]",
                               (42,), None)
    record.color_message = "Started server process [\x1b[36m%d\x1b[0m]"
    line = json.loads(JsonLines().format(record))
    assert line["message"] == "Started server process [42]"
    assert "color_message" not in line


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.mark.slow
def _gone(postmaster: Path, seconds: float = 10.0) -> bool:
    """True once the server's pid file is gone; a loaded machine may take a moment to stop it."""
    deadline = time.monotonic() + seconds
    while postmaster.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    return not postmaster.exists()


def test_embedded_postgres_stops_after_sigterm_and_after_a_killed_run(tmp_path: Path) -> None:
    data = tmp_path / "data"
    postmaster = data / "pgdata" / "postmaster.pid"
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("TOUCHPULSE_")}
    env.update({"TOUCHPULSE_DATA_DIR": str(data), "PORT": str(port)})
    try:
        server = subprocess.Popen([sys.executable, "-m", "feedback.cli", "serve"], env=env, cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert server.poll() is None, "serve exited before it answered"
                time.sleep(0.2)
            assert postmaster.exists()
            server.send_signal(signal.SIGTERM)
            assert server.wait(30) == 128 + signal.SIGTERM
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
        assert _gone(postmaster), "SIGTERM left the embedded PostgreSQL running"

        # A run killed outright stays in the server's list of users; the next run forgets it.
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        (data / "pgdata" / ".handle_pids.json").write_text(f"[{dead.pid}]")
        migrate = subprocess.run([sys.executable, "-m", "feedback.cli", "migrate"], env=env, cwd=ROOT,
                                 capture_output=True, text=True, timeout=120, check=False)
        assert migrate.returncode == 0, migrate.stderr
        assert _gone(postmaster), "a dead run's pid kept the embedded PostgreSQL running"
    finally:
        if postmaster.exists():  # the test failed: do not leave the server running
            with contextlib.suppress(ProcessLookupError, ValueError, OSError):  # keep the failure visible
                os.kill(int(postmaster.read_text().split()[0]), signal.SIGINT)


def test_every_advisory_lock_has_a_key_of_its_own() -> None:
    # Two features on one key would wait on each other: an owner being created would hang for
    # as long as a background task held the other lock.
    import re

    keys: dict[int, list[str]] = {}
    for path in sorted([*ROOT.glob("feedback/**/*.py"), *ROOT.glob("feedback/**/*.sql"),
                        *ROOT.glob("surveys/**/*.py"), *ROOT.glob("surveys/**/*.sql")]):
        for match in re.finditer(r"\b7_?463_?021_?9\d\d\b", path.read_text(encoding="utf-8")):
            keys.setdefault(int(match.group().replace("_", "")), []).append(path.name)
    shared = {key: files for key, files in keys.items() if len(files) > 1}
    assert not shared, f"advisory lock keys used in more than one place: {shared}"
    assert len(keys) == 6, keys  # migrations, demo loader, owner, journey and touchpoint names, catch-up
