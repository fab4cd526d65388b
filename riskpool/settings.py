"""Settings from the environment (prefix `RISKPOOL_`), one place for every entry point."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledger.service.application import DEFAULT_KEY_PEPPER

DEFAULT_DATABASE_URL = "sqlite:///riskpool.db"
CONSOLE_IDLE_SECONDS = 30 * 60  # a console session ends after this long without a request


class Settings(BaseSettings):
    """Where the ledger lives and how it connects.

    `database_url` is `sqlite:///relative/path.db`, `sqlite:////absolute/path.db`,
    `postgresql://user:password@host:port/dbname[?schema=name]`, or `memory://` (nothing kept).
    """

    model_config = SettingsConfigDict(env_prefix="RISKPOOL_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    projections_url: str | None = None
    lock_timeout_seconds: int = Field(default=10, ge=1, le=600)
    pool_size: int = Field(default=5, ge=1, le=100)
    key_pepper: str = DEFAULT_KEY_PEPPER.decode()
    audit_key_file: Path | None = None
    audit_heads_file: Path | None = None
    console_idle_seconds: int = Field(default=CONSOLE_IDLE_SECONDS, ge=1, le=24 * 3600)
    console_secure_cookies: bool = False  # the console's cookies Secure even over plain HTTP (behind TLS)

    def event_store_env(self) -> dict[str, str]:
        """The `eventsourcing` persistence settings for this database URL."""
        url = urlsplit(self.database_url)
        if url.scheme == "memory":
            return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
        if url.scheme == "sqlite":
            return {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(self.sqlite_path()),
                "SQLITE_LOCK_TIMEOUT": str(self.lock_timeout_seconds),
            }
        if url.scheme in ("postgresql", "postgres", "postgresql+psycopg"):
            return {
                "PERSISTENCE_MODULE": "eventsourcing.postgres",
                "POSTGRES_DBNAME": url.path.lstrip("/") or "postgres",
                "POSTGRES_HOST": url.hostname or "127.0.0.1",
                "POSTGRES_PORT": str(url.port or 5432),
                "POSTGRES_USER": unquote(url.username or "postgres"),
                "POSTGRES_PASSWORD": unquote(url.password or ""),
                "POSTGRES_LOCK_TIMEOUT": str(self.lock_timeout_seconds),
                "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": str(self.lock_timeout_seconds * 2),
                "POSTGRES_POOL_SIZE": str(self.pool_size),
                "POSTGRES_CONNECT_TIMEOUT": str(self.lock_timeout_seconds),
                "POSTGRES_SCHEMA": self.postgres_schema(),
                # Large saves (loan tapes) outside psycopg's pipeline mode: see riskpool/pg_recorder.py.
                "APPLICATION_RECORDER_TOPIC": "riskpool.pg_recorder:PostgresRecorder",
            }
        raise ValueError(
            f"RISKPOOL_DATABASE_URL {self.database_url!r}: use sqlite:///path, postgresql://… or memory://"
        )

    def sqlite_path(self) -> Path:
        url = urlsplit(self.database_url)
        assert url.scheme == "sqlite", self.database_url
        # sqlite:///riskpool.db is relative to the working directory; sqlite:////abs/x.db absolute.
        path = url.path[1:] if url.path.startswith("/") else url.path
        return Path(path or "riskpool.db")

    @property
    def is_sqlite(self) -> bool:
        return urlsplit(self.database_url).scheme == "sqlite"

    def audit_key_path(self) -> Path | None:
        """The Ed25519 key that signs tree heads: RISKPOOL_AUDIT_KEY_FILE, by default beside the
        SQLite file (`riskpool.audit-key`), for PostgreSQL `riskpool.<database>.<schema>.audit-key`
        in the working directory; made on first use; none for `memory://` (a key for the process
        only). The signer's record of the heads it signed is `<key file>.heads`; with
        RISKPOOL_AUDIT_HEADS_FILE every head is also appended to that file (write-once storage)."""
        if self.audit_key_file is not None:
            return self.audit_key_file
        scheme = urlsplit(self.database_url).scheme
        if scheme == "memory":
            return None
        if scheme == "sqlite":
            return self.sqlite_path().with_suffix(".audit-key")
        # One signer per store: a key file named after the database and schema it signs for.
        database = urlsplit(self.database_url).path.lstrip("/") or "postgres"
        return Path(f"riskpool.{database}.{self.postgres_schema()}.audit-key")

    def read_models_url(self) -> str:
        """Where the projections live (an SQLAlchemy URL).

        By default a sibling SQLite file of the events' file (`riskpool.projections.db`): SQLite
        has one writer at a time, and a separate file keeps the projection runner's batches from
        queueing behind the commands' writes. With PostgreSQL, the same database.
        """
        if self.projections_url:
            return self.projections_url
        url = urlsplit(self.database_url)
        if url.scheme == "sqlite":
            return f"sqlite:///{self.sqlite_path().with_suffix('.projections.db')}"
        if url.scheme == "memory":
            return "sqlite://"
        netloc = url.netloc
        return f"postgresql+psycopg://{netloc}{url.path}?options=-csearch_path%3D{self.postgres_schema()}"

    def postgres_schema(self) -> str:
        """`postgresql://…/db?schema=name` keeps the ledger in that schema (default public)."""
        schema = dict(parse_qsl(urlsplit(self.database_url).query)).get("schema", "public")
        if not schema.replace("_", "").isalnum():
            raise ValueError(f"schema {schema!r} must be letters, digits and underscores")
        return schema
