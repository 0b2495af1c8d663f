"""Configuration: environment variables (MES_*) over defaults, resolved once per app."""
from __future__ import annotations

import os
import secrets
from pathlib import Path


def instance_dir() -> Path:
    """Where the SQLite file and the generated secret key live (``MES_INSTANCE_PATH``)."""
    return Path(os.environ.get("MES_INSTANCE_PATH") or Path.cwd() / "instance").resolve()


def private_dir(folder: Path) -> None:
    """Create the instance folder readable by the app's user only (it holds the database and the
    secret key); an existing one is left as its owner set it."""
    if not folder.exists():
        folder.mkdir(parents=True, mode=0o700, exist_ok=True)
        os.chmod(folder, 0o700)  # mkdir's mode is masked by the umask


def _secret_key(folder: Path) -> str:
    """``MES_SECRET_KEY``, or a key generated once into the instance folder and kept there."""
    if key := os.environ.get("MES_SECRET_KEY"):
        return key
    path = folder / "secret_key"
    if path.exists():
        return path.read_text().strip()
    private_dir(folder)
    key = secrets.token_hex(32)
    # O_EXCL: two processes starting together must end up with one key, not two.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def load(overrides: dict | None = None) -> dict:
    """The app's configuration mapping; ``overrides`` (tests) win over the environment."""
    overrides = dict(overrides or {})
    folder = Path(overrides.pop("INSTANCE_PATH", None) or instance_dir())
    database_url = overrides.get("DATABASE_URL") or os.environ.get("MES_DATABASE_URL")
    if not database_url:
        private_dir(folder)
        database_url = f"sqlite:///{folder / 'mes.db'}"
    config = {
        "INSTANCE_PATH": str(folder),
        "SECRET_KEY": overrides.get("SECRET_KEY") or _secret_key(folder),
        "DATABASE_URL": database_url,
        "PLANT_NAME": os.environ.get("MES_PLANT_NAME", "Demo Plant"),
        "PLANT_TIMEZONE": os.environ.get("MES_TIMEZONE", "Asia/Shanghai"),
        # The address tablets reach the server by (printed in the travelers' QR codes).
        "PUBLIC_URL": os.environ.get("MES_PUBLIC_URL", ""),
        # A TrueType font to embed in printed reports (default: the CID font STSong-Light).
        "PDF_FONT": os.environ.get("MES_PDF_FONT", ""),
        "BABEL_DEFAULT_LOCALE": os.environ.get("MES_DEFAULT_LOCALE", "en"),
        "LANGUAGES": ("en", "zh_CN"),
        # The shop-floor terminal's language until a worker switches.
        "FLOOR_DEFAULT_LOCALE": os.environ.get("MES_FLOOR_LOCALE", "zh_CN"),
        # Pieces an operation may report beyond what reached it, in percent (rounded down).
        "OVERPRODUCTION_PERCENT": _int("MES_OVERPRODUCTION_PERCENT", 0),
        # Shop-floor (badge/PIN) sessions end after this much inactivity.
        "KIOSK_IDLE_SECONDS": _int("MES_KIOSK_IDLE_SECONDS", 300),
        "KIOSK_COOKIE_DAYS": _int("MES_KIOSK_COOKIE_DAYS", 3650),
        # A login session (its server-side row) ends after this many days whatever happens.
        "SESSION_MAX_DAYS": _int("MES_SESSION_MAX_DAYS", 30),
        # Login throttling within a window: an account from one source (address or kiosk) gets
        # growing delays after LOGIN_MAX_FAILURES_ACCOUNT failures, from anywhere after the looser
        # ..._ANYWHERE; a kiosk device and PIN/badge logins as a whole are locked for the window.
        "LOGIN_MAX_FAILURES_ACCOUNT": _int("MES_LOGIN_MAX_FAILURES", 5),
        "LOGIN_MAX_FAILURES_ACCOUNT_ANYWHERE": _int("MES_LOGIN_MAX_FAILURES_ANYWHERE", 50),
        "LOGIN_BASE_DELAY_SECONDS": _int("MES_LOGIN_BASE_DELAY_SECONDS", 30),
        "LOGIN_MAX_FAILURES_DEVICE": _int("MES_LOGIN_MAX_FAILURES_DEVICE", 10),
        "LOGIN_MAX_FAILURES_GLOBAL": _int("MES_LOGIN_MAX_FAILURES_GLOBAL", 100),
        "LOGIN_WINDOW_SECONDS": _int("MES_LOGIN_WINDOW_SECONDS", 900),
        "MAX_CONTENT_LENGTH": _int("MES_MAX_UPLOAD_BYTES", 5 * 1024 * 1024),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("MES_SECURE_COOKIES", "") == "1",
        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host are trusted (0: none).
        "PROXY_HOPS": _int("MES_PROXY_HOPS", 0),
        "REMEMBER_COOKIE_DURATION": 0,
        # A kiosk left open over lunch must still post: the token lives as long as the session,
        # and a stale one is refreshed by the page (see templates/base.html).
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_CSRF_HEADERS": ["X-CSRFToken"],
        "WTF_CSRF_SSL_STRICT": True,
        "API_TITLE": "mes",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        # How new work orders are numbered: {yyyy} {yy} {mm} {yymm} of the plant's date and one {seq}.
        "ORDER_NUMBER_FORMAT": os.environ.get("MES_ORDER_NUMBER_FORMAT", "WO-{yymm}-{seq:04d}"),
        "SCHEDULER_TIME_LIMIT": _int("MES_SCHEDULER_TIME_LIMIT", 30),
        "SCHEDULER_WORKERS": _int("MES_SCHEDULER_WORKERS", 2),
        # Machine data over MQTT (docs/machinedata.md): the broker, this worker's fixed client id,
        # the shared-subscription group of several workers, a CA file for mqtts://.
        "MQTT_URL": os.environ.get("MES_MQTT_URL", ""),
        "MQTT_CLIENT_ID": os.environ.get("MES_MQTT_CLIENT_ID", ""),
        "MQTT_SHARED_GROUP": os.environ.get("MES_MQTT_SHARED_GROUP", ""),
        "MQTT_CA_FILE": os.environ.get("MES_MQTT_CA_FILE", ""),
        # 5 (MQTT 5, the default) or 3.1.1 for brokers without MQTT 5 (no shared subscriptions).
        "MQTT_PROTOCOL": os.environ.get("MES_MQTT_PROTOCOL", "5"),
        # A gateway timestamp further ahead than this is refused (dead letter); one off by more than
        # the tolerance is flagged on the machine.
        "MQTT_MAX_FUTURE_SECONDS": _int("MES_MQTT_MAX_FUTURE_SECONDS", 3600),
        "MQTT_CLOCK_TOLERANCE_SECONDS": _int("MES_MQTT_CLOCK_TOLERANCE_SECONDS", 60),
        # A connected machine down this long is marked unavailable for the planner.
        "MACHINE_DOWN_UNAVAILABLE_MINUTES": _int("MES_MACHINE_DOWN_UNAVAILABLE_MINUTES", 30),
        # Machine counts are offered to the worker to confirm (0), or posted directly (1).
        "MACHINE_COUNTS_POST_DIRECTLY": os.environ.get("MES_MACHINE_COUNTS_POST_DIRECTLY", "") == "1",
        "TESTING": False,
    }
    config.update(overrides)
    return config
