"""One settings object, read from the environment (and `.env`).

`DATABASE_URL` unset means the embedded PostgreSQL under `DATA_DIR`. `JWT_SECRET` unset is
allowed only there: the embedded database keeps a generated secret beside its data. A server on
a real database with no secret, or with a placeholder secret, refuses to start.
"""

from __future__ import annotations

import datetime as dt
import secrets
import sys
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = frozenset({"changethis", "changeme", "secret", "jwt-secret", "demo", "test", ""})


class SettingsError(RuntimeError):
    """The configuration cannot run a server (e.g. a real database without a JWT secret)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str | None = None
    # The tables' owner, for migrations and `boothgraph import`; DATABASE_URL is then the server's
    # own, less privileged role (core/roles.py). Unset: DATABASE_URL does both.
    migration_database_url: str | None = None
    jwt_secret: str | None = None
    data_dir: Path = Path(".boothgraph")
    min_cell_size: int = Field(default=5, ge=1)
    # Seconds between the server's releases of the sensitive breakdowns (docs/disclosure-control.md);
    # 0: only imports and `boothgraph stats release` release.
    stats_release_interval_s: float = Field(default=3600.0, ge=0)

    # Reads on streaming standbys (core/replicas.py): one or more standbys of DATABASE_URL
    # (comma-separated URLs, or one URL naming several hosts). A standby is skipped while it lags
    # more than REPLICA_MAX_LAG_S or does not answer; a read carrying a consistency token waits up
    # to READ_YOUR_WRITES_WAIT_MS for its standby to replay the user's write, else reads the primary.
    read_database_url: str | None = None
    replica_max_lag_s: float = Field(default=2.0, gt=0)
    replica_check_s: float = Field(default=0.5, gt=0)
    read_your_writes_wait_ms: float = Field(default=100.0, ge=0)
    # asyncpg's prepared statement cache per connection; 0 through a PgBouncer in transaction
    # mode before 1.21 (Debian 12 ships 1.18), which cannot carry named prepared statements.
    statement_cache_size: int = Field(default=100, ge=0)

    # Serving
    pool_min_size: int = 2
    pool_max_size: int = 10
    statement_timeout_ms: int = 5_000
    connect_timeout_s: float = 3.0
    max_body_bytes: int = 1_048_576
    graphiql: bool = True
    introspection: bool = True
    cors_origins: list[str] = Field(default_factory=list)

    # Query limits (QUERY_TOO_COMPLEX)
    max_depth: int = 10
    max_aliases: int = 20
    max_tokens: int = 2_000
    max_cost: int = 50_000
    max_batch: int = 10

    # Per-user rate limit: a token bucket per user id, per worker process; each operation of a
    # batch takes a token.
    rate_limit_per_s: float = 50.0
    rate_limit_burst: int = 100

    # One user's share of the database (core/connections.py), per worker process: pooled
    # connections held at once (0: half of POOL_MAX_SIZE, rounded up), and round trips to the
    # database per HTTP request (a batch's operations together).
    user_pool_share: int = Field(default=0, ge=0)
    max_statements: int = Field(default=200, ge=1)

    # CSV exports (routes/transfer.py), per worker process: how many stream at once (each holds a
    # pooled connection while it streams), how many per user (more: 429), and how long one chunk
    # may wait for a client that does not read before the stream is cut and its connection freed.
    export_concurrency: int = Field(default=2, ge=1)
    exports_per_user: int = Field(default=1, ge=1)
    export_send_timeout_s: float = Field(default=10.0, gt=0)

    # Subscriptions over graphql-transport-ws (events/, docs/events.md), per worker process: open
    # websockets in all and per user (more: closed with 4429), how long a socket may wait before
    # connection_init (4408), at most one turnoutChanged per election and unit this often, the
    # longest wait between attempts to reconnect the LISTEN connection, and the events one
    # subscriber may have waiting before the oldest are dropped.
    ws_max_connections: int = Field(default=1000, ge=1)
    ws_max_connections_per_user: int = Field(default=5, ge=1)
    ws_max_subscriptions_per_connection: int = Field(default=20, ge=1)
    ws_init_timeout_s: float = Field(default=10.0, gt=0)
    turnout_event_interval_s: float = Field(default=1.0, ge=0)
    events_reconnect_max_s: float = Field(default=30.0, gt=0)
    events_queue_size: int = Field(default=256, ge=1)
    # The LISTEN connection's own URL: PostgreSQL itself or a session-mode pool. A PgBouncer in
    # transaction mode hands LISTEN's server connection to others after its transaction, so a
    # listener behind one hears nothing (the start-up probe says so in the log). Unset: DATABASE_URL.
    listen_database_url: str | None = None
    # How long the start-up probe (a NOTIFY sent through the request pool) waits to be heard.
    events_probe_timeout_s: float = Field(default=3.0, gt=0)

    # Election day (resolvers/turnout.py): poll hours in the election time zone, on the booth's poll
    # date; how long after a mark it may still be undone.
    election_timezone: str = "Asia/Kolkata"
    poll_opens_at: dt.time = dt.time(7, 0)
    poll_closes_at: dt.time = dt.time(18, 0)
    turnout_undo_s: float = Field(default=300.0, ge=0)
    # Turnout by caste category for viewers without voter.read_sensitive: released at most once per
    # this many seconds (boundaries from local midnight), counting marks older than the undo window
    # (resolvers/turnout_release.py, docs/elections.md).
    turnout_release_interval_s: float = Field(default=3600.0, gt=0)
    # Operating it (routes/operator.py, core/logs.py, core/tracing.py). METRICS_TOKEN: the bearer
    # secret a Prometheus scraper sends to read /metrics (unset: /metrics is off). LOG_FORMAT:
    # json (one object per line) or text; auto = json unless stderr is a terminal.
    # OTEL_EXPORTER_OTLP_ENDPOINT: traces go there (OTLP over HTTP) when set; off when unset.
    metrics_token: str | None = None
    # Persisted operations (core/persisted.py): true = only registered operations run, for everyone
    # (an API key can be made registered-only by itself).
    registered_operations_only: bool = False
    # Automatic persisted queries (APQ) are registered by clients into a table every node shares:
    # at most APQ_MAX_PER_USER documents per user, APQ_MAX_TOTAL in all, none larger than
    # APQ_MAX_DOCUMENT_BYTES. Beyond, the text still runs and is not registered (Apollo clients
    # then keep sending it), so one user cannot fill the database (trust and fair shares).
    apq_max_per_user: int = Field(default=100, ge=0)
    apq_max_total: int = Field(default=10_000, ge=0)
    apq_max_document_bytes: int = Field(default=32_768, ge=0)
    log_format: Literal["auto", "json", "text"] = "auto"
    otel_exporter_otlp_endpoint: str | None = None
    otel_service_name: str = "boothgraph"

    # Policy files; the enforcer reloads them when they change: a request looks at the files
    # when they were last looked at more than POLICY_FILE_CHECK_S ago (two stat calls; 0: every
    # request), and a watcher every POLICY_RELOAD_S.
    policy_dir: Path | None = None
    policy_reload_s: float = 2.0
    policy_file_check_s: float = Field(default=0.5, ge=0)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [o.strip() for o in value.split(",") if o.strip()]
        return value

    @property
    def pool_share(self) -> int:
        """Pooled connections one user may hold at once."""
        return self.user_pool_share or max(1, -(-self.pool_max_size // 2))

    @property
    def json_logs(self) -> bool:
        if self.log_format == "auto":
            return not sys.stderr.isatty()
        return self.log_format == "json"

    @property
    def embedded(self) -> bool:
        return not self.database_url

    def secret_for_serving(self) -> str:
        """The JWT secret a server may use; generates and keeps one for the embedded database."""
        if self.jwt_secret:
            if self.jwt_secret.strip().lower() in PLACEHOLDER_SECRETS or len(self.jwt_secret) < 16:
                raise SettingsError("JWT_SECRET is a placeholder or shorter than 16 characters: set a real one")
            return self.jwt_secret
        if not self.embedded:
            raise SettingsError("JWT_SECRET must be set when DATABASE_URL points at a real database")
        path = self.data_dir / "jwt_secret"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()
