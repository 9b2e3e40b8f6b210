"""Server settings, read from the environment and a `.env` file.

Names and defaults follow the jobworkerp environment variables so that an
existing `.env` keeps working. `dot.env` at the top of the repository lists
every variable with its default and meaning; keep the two in step.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from jwp.server.addresses import split_listen_address

DEFAULT_CHANNEL = "__default_job_channel__"
"""Channel name stored for workers without a channel; API responses show it as absent."""


class StorageType(enum.StrEnum):
    """Where jobs wait: in this process (Standalone) or in Redis (Scalable)."""

    STANDALONE = "Standalone"
    SCALABLE = "Scalable"


class Role(enum.StrEnum):
    """What one `jwp serve` process runs."""

    ALL = "all"
    FRONT = "front"
    WORKER = "worker"


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    """Every setting of `jwp serve`; field names are the env var names in lower case."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        # `NAME=` in .env (as in dot.env) means "use the default".
        env_ignore_empty=True,
    )

    storage_type: StorageType = StorageType.STANDALONE
    """Standalone keeps immediate jobs in memory; Scalable keeps them in Redis."""

    storage_restore_at_startup: bool = Field(
        default=False,
        validation_alias=AliasChoices("storage_restore_at_startup", "storage_reflesh_from_rdb"),
    )
    """Put WITH_BACKUP jobs left in the RDB back on their queues at start-up."""

    sqlite_url: str = "sqlite://jobworkerp.sqlite3"
    """SQLite database file as `sqlite://PATH` (relative or absolute path) or a SQLAlchemy URL."""

    sqlite_max_connections: int = Field(default=20, ge=1)
    """Size of the SQLite connection pool."""

    mysql_url: str | None = None
    """MySQL/MariaDB as `mysql://USER:PASSWORD@HOST:PORT/DBNAME`; set it (or MYSQL_HOST) to
    use MySQL instead of SQLite."""

    mysql_host: str | None = None
    """MySQL/MariaDB host; used with MYSQL_PORT, MYSQL_USER, MYSQL_PASSWORD, MYSQL_DBNAME."""

    mysql_port: int = Field(default=3306, ge=1, le=65535)
    """MySQL/MariaDB port."""

    mysql_user: str = "root"
    """MySQL/MariaDB user."""

    mysql_password: str = ""
    """MySQL/MariaDB password (never logged)."""

    mysql_dbname: str = "jobworkerp"
    """MySQL/MariaDB database; it must exist."""

    mysql_max_connections: int = Field(default=20, ge=1)
    """Size of the MySQL/MariaDB connection pool."""

    jwp_mysql_timeout_ms: int = Field(default=10_000, ge=1)
    """How long opening a MySQL/MariaDB connection, or one read of a reply, may take, in ms.

    Requests to a database that stops responding fail with UNAVAILABLE after
    about twice this (a pooled connection's check, then a new connection),
    rather than hanging."""

    redis_url: str = "redis://127.0.0.1:6379"
    """Redis server of Scalable mode as `redis://HOST:PORT/DB` (or `rediss://` for TLS)."""

    redis_username: str | None = None
    """Redis ACL user name; unset uses the one in REDIS_URL, if any."""

    redis_password: str | None = None
    """Redis password; unset uses the one in REDIS_URL, if any (never logged)."""

    redis_pool_size: int = Field(default=20, ge=2)
    """Connections in the Redis pool of one process (the pub/sub connection is extra)."""

    redis_pool_create_timeout_msec: int = Field(default=5000, ge=1)
    """How long opening one Redis connection may take, in ms."""

    redis_pool_wait_timeout_msec: int = Field(default=60_000, ge=1)
    """How long a command waits for a free pooled connection, in ms."""

    redis_pool_recycle_timeout_msec: int = Field(default=5000, ge=1)
    """A pooled connection idle this long is checked with PING before reuse, in ms."""

    jwp_redis_key_prefix: str = ""
    """Text put before every Redis key and pub/sub channel jwp uses; empty keeps the
    jobworkerp names, so a Redis shared by several jwp systems needs one prefix each."""

    jwp_lease_ms: int = Field(default=30_000, ge=300)
    """Length of the leases a process holds, in ms: on its Redis processing list, its
    snowflake node id and the RDB job rows it runs. They are renewed every third of this;
    the jobs of a process that died run again elsewhere within about this time."""

    job_queue_expire_job_result_seconds: int = Field(default=3600, ge=1)
    """Lifetime of a DIRECT result waiting for its caller, and the default Listen wait, in s."""

    job_queue_fetch_interval: int = Field(default=1000, ge=10)
    """RDB poll interval in ms; jobs due later than now + this interval are stored in the RDB."""

    worker_default_concurrency: int = Field(default=4, ge=1)
    """Jobs the default channel runs at once in one process."""

    worker_channels: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Extra channels this process serves, comma-separated."""

    worker_channel_concurrencies: Annotated[list[int], NoDecode] = Field(default_factory=list)
    """Concurrency of each extra channel, comma-separated, in the order of WORKER_CHANNELS."""

    grpc_addr: str = "[::1]:9000"
    """Address the gRPC server listens on; the default is loopback only."""

    max_frame_size: int | None = Field(default=None, ge=16_384, le=16_777_215)
    """HTTP/2 max frame size the gRPC server announces, in bytes; unset keeps grpc's default."""

    jwp_max_message_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    """Largest gRPC message the server accepts or sends, in bytes."""

    jwp_max_args_bytes: int = Field(default=16 * 1024 * 1024, ge=1)
    """Largest job args accepted by Enqueue, in bytes; larger args get INVALID_ARGUMENT."""

    jwp_max_result_output_bytes: int = Field(default=32 * 1024 * 1024, ge=1)
    """Largest job result output, in bytes; a larger output fails the job with OTHER_ERROR."""

    jwp_max_queued_jobs_per_channel: int | None = Field(default=None, ge=1)
    """Cap on jobs waiting in one channel's queue; Enqueue past it gets RESOURCE_EXHAUSTED.
    Unset means no cap."""

    auth_token: SecretStr | None = None
    """When set, every RPC except the health check needs header `jobworkerp-auth` equal to it."""

    jwp_tls_cert_file: Path | None = None
    """PEM certificate chain of the gRPC (and gRPC-Web) server; set with JWP_TLS_KEY_FILE."""

    jwp_tls_key_file: Path | None = None
    """PEM private key of JWP_TLS_CERT_FILE."""

    jwp_tls_client_ca_file: Path | None = None
    """PEM CA bundle; when set, clients must present a certificate it signed (mutual TLS)."""

    use_grpc_web: bool = False
    """Also serve the API as gRPC-Web (HTTP/1.1 and HTTP/2) on JWP_GRPC_WEB_ADDR."""

    jwp_grpc_web_addr: str = "[::1]:9001"
    """Address of the gRPC-Web server; the default is loopback only."""

    otlp_addr: str | None = None
    """OTLP/gRPC collector endpoint (e.g. http://localhost:4317) for traces and metrics;
    unset sends none."""

    jwp_metrics_addr: str | None = None
    """Address of the Prometheus metrics endpoint (e.g. 127.0.0.1:9464); unset serves none."""

    log_level: str = "INFO"
    """Level of the root logger: DEBUG, INFO, WARNING or ERROR."""

    log_file_dir: Path | None = None
    """Folder for a `jwp.log` file; unset writes no file."""

    log_use_json: bool = False
    """Write one JSON object per log record instead of text lines."""

    log_use_stdout: bool = True
    """Write log records to standard output (standard error when false and no file is set)."""

    log_app_name: str = "jwp"
    """Name stamped on JSON log records."""

    jwp_node_id: int | None = Field(default=None, ge=0, le=1023)
    """Snowflake node id of this process (0-1023). Unset, Scalable mode leases a free one
    from Redis and Standalone derives one from the host's private IPv4 address."""

    jwp_shutdown_grace_ms: int = Field(default=30_000, ge=0)
    """How long a stopping server waits for running jobs before cancelling them, in ms."""

    jwp_uvloop: bool = False
    """Run `jwp serve` on uvloop's event loop (`pip install 'jwp[uvloop]'`). Off by default:
    grpc.aio does not list uvloop as a supported loop, so it is an opt-in for speed."""

    jwp_kill_grace_ms: int = Field(default=5_000, ge=0)
    """After SIGTERM, how long a stopped job's processes get before SIGKILL, in ms."""

    workflow_http_timeout_sec: float = Field(default=120, gt=0)
    """Timeout of fetching an INLINE_WORKFLOW document from an http(s) workflow_url, in s."""

    jwp_command_output_limit_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    """Captured stdout and stderr of a COMMAND job are each cut to this size, in bytes."""

    jwp_http_connect_timeout_ms: int = Field(default=10_000, ge=1)
    """HTTP_REQUEST, LLM and Slack runners: limit for opening a connection, in ms."""

    jwp_http_read_timeout_ms: int = Field(default=60_000, ge=1)
    """HTTP_REQUEST and Slack runners: limit for each read of the response, in ms."""

    jwp_http_total_timeout_ms: int = Field(default=300_000, ge=1)
    """HTTP_REQUEST runner: limit for a whole request with its redirects, in ms."""

    jwp_http_response_limit_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    """HTTP_REQUEST runner: a response body larger than this fails the job, in bytes."""

    jwp_python_env_dir: Path | None = None
    """PYTHON_COMMAND runner: folder of the cached virtual environments; unset uses
    `~/.cache/jwp/python-envs`."""

    jwp_llm_read_timeout_ms: int = Field(default=600_000, ge=1)
    """LLM runners: limit for each read of the response, in ms (a model may load first)."""

    jwp_slack_api_base_url: str = "https://slack.com/api"
    """SLACK_POST_MESSAGE runner: base URL of the Slack Web API."""

    openai_api_key: SecretStr | None = None
    """API key sent by the LLM runners' `genai` settings as a bearer token."""

    mcp_config: Path = Path("mcp-settings.toml")
    """MCP server configuration file (TOML, JSON or YAML); a missing file means no MCP servers."""

    jwp_mcp_connect_timeout_ms: int = Field(default=30_000, ge=1)
    """Limit for connecting to an MCP server and listing its tools, in ms (at start-up, on
    RunnerService.Create and when a job opens a session)."""

    plugins_runner_dir: Annotated[list[Path], NoDecode] = Field(default_factory=list)
    """Folders searched for plugin runners (Python modules and packages), comma-separated;
    unset searches none."""

    @field_validator("worker_channels", mode="before")
    @classmethod
    def _parse_channels(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("worker_channel_concurrencies", mode="before")
    @classmethod
    def _parse_concurrencies(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("plugins_runner_dir", mode="before")
    @classmethod
    def _parse_plugin_dirs(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("grpc_addr", "jwp_grpc_web_addr", "jwp_metrics_addr")
    @classmethod
    def _check_listen_address(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            split_listen_address(value, (info.field_name or "address").upper())
        return value

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "WARN", "ERROR", "CRITICAL"}:
            raise ValueError(f"LOG_LEVEL {value!r} is not one of DEBUG, INFO, WARNING, ERROR")
        return "WARNING" if level == "WARN" else level

    @model_validator(mode="after")
    def _check_channels(self) -> Settings:
        if len(self.worker_channels) != len(self.worker_channel_concurrencies):
            raise ValueError(
                f"WORKER_CHANNELS names {len(self.worker_channels)} channels but "
                f"WORKER_CHANNEL_CONCURRENCIES gives {len(self.worker_channel_concurrencies)} "
                "values; give one concurrency per channel, in the same order"
            )
        for name, concurrency in zip(
            self.worker_channels, self.worker_channel_concurrencies, strict=True
        ):
            if concurrency < 1:
                raise ValueError(f"concurrency of channel {name!r} is {concurrency}; use 1 or more")
        if DEFAULT_CHANNEL in self.worker_channels:
            raise ValueError(
                f"WORKER_CHANNELS must not name {DEFAULT_CHANNEL!r}; "
                "set WORKER_DEFAULT_CONCURRENCY for the default channel"
            )
        return self

    @model_validator(mode="after")
    def _check_tls(self) -> Settings:
        if (self.jwp_tls_cert_file is None) != (self.jwp_tls_key_file is None):
            raise ValueError(
                "JWP_TLS_CERT_FILE and JWP_TLS_KEY_FILE must be set together; set both for TLS "
                "or neither for plain text"
            )
        if self.jwp_tls_client_ca_file is not None and self.jwp_tls_cert_file is None:
            raise ValueError(
                "JWP_TLS_CLIENT_CA_FILE needs JWP_TLS_CERT_FILE and JWP_TLS_KEY_FILE, because "
                "client certificates are only checked over TLS"
            )
        return self

    @model_validator(mode="after")
    def _check_limits(self) -> Settings:
        # A job result carries the job's args and its output, and must fit in
        # one gRPC message to reach the caller.
        result_bytes = self.jwp_max_args_bytes + self.jwp_max_result_output_bytes
        if result_bytes >= self.jwp_max_message_bytes:
            raise ValueError(
                f"JWP_MAX_ARGS_BYTES ({self.jwp_max_args_bytes}) plus "
                f"JWP_MAX_RESULT_OUTPUT_BYTES ({self.jwp_max_result_output_bytes}) must be below "
                f"JWP_MAX_MESSAGE_BYTES ({self.jwp_max_message_bytes}), because a job result "
                "carries both; lower them or raise JWP_MAX_MESSAGE_BYTES"
            )
        return self

    def channel_concurrencies(self) -> dict[str, int]:
        """Map every channel this process serves, the default one first, to its concurrency."""
        channels = {DEFAULT_CHANNEL: self.worker_default_concurrency}
        channels.update(zip(self.worker_channels, self.worker_channel_concurrencies, strict=True))
        return channels

    def ignored_settings(self) -> str | None:
        """Describe the settings that were set but that this configuration does not use.

        Returns one sentence per group, such as "REDIS_URL (STORAGE_TYPE is
        Standalone, which uses no Redis)", joined by "; ", or None when every
        setting given is used. Defaults do not count, only values from the
        environment, .env or arguments.
        """
        explicit = self.model_fields_set
        groups: list[tuple[tuple[str, ...], str]] = []
        if self.storage_type is StorageType.STANDALONE:
            groups.append((_REDIS_FIELDS, "STORAGE_TYPE is Standalone, which uses no Redis"))
        if self.uses_mysql():
            groups.append((_SQLITE_FIELDS, "MYSQL_URL or MYSQL_HOST selects MySQL"))
            if self.mysql_url:
                groups.append((_MYSQL_PART_FIELDS, "MYSQL_URL gives the whole connection"))
        else:
            groups.append(
                (
                    (*_MYSQL_PART_FIELDS, "mysql_max_connections"),
                    "neither MYSQL_URL nor MYSQL_HOST is set",
                )
            )
        if not self.use_grpc_web:
            groups.append((("jwp_grpc_web_addr",), "USE_GRPC_WEB is off"))
        parts = []
        for fields, reason in groups:
            names = [name.upper() for name in fields if name in explicit]
            if names:
                parts.append(f"{', '.join(names)} ({reason})")
        return "; ".join(parts) or None

    def uses_mysql(self) -> bool:
        """Return True when MYSQL_URL or MYSQL_HOST selects MySQL/MariaDB over SQLite."""
        return bool(self.mysql_url or self.mysql_host)

    def sqlalchemy_mysql_url(self) -> str:
        """Return the MySQL settings as a `mysql+asyncmy://` SQLAlchemy URL."""
        from sqlalchemy.engine import URL, make_url

        if self.mysql_url:
            url = make_url(self.mysql_url)
            return url.set(drivername="mysql+asyncmy").render_as_string(hide_password=False)
        return URL.create(
            "mysql+asyncmy",
            username=self.mysql_user,
            password=self.mysql_password or None,
            host=self.mysql_host,
            port=self.mysql_port,
            database=self.mysql_dbname,
        ).render_as_string(hide_password=False)

    def sqlalchemy_sqlite_url(self) -> str:
        """Return SQLITE_URL in the form SQLAlchemy's aiosqlite dialect expects."""
        return sqlite_url_for_sqlalchemy(self.sqlite_url)


_REDIS_FIELDS = (
    "redis_url",
    "redis_username",
    "redis_password",
    "redis_pool_size",
    "redis_pool_create_timeout_msec",
    "redis_pool_wait_timeout_msec",
    "redis_pool_recycle_timeout_msec",
    "jwp_redis_key_prefix",
)
_SQLITE_FIELDS = ("sqlite_url", "sqlite_max_connections")
# The parts of a MySQL connection that MYSQL_URL replaces.
_MYSQL_PART_FIELDS = ("mysql_host", "mysql_port", "mysql_user", "mysql_password", "mysql_dbname")


def sqlite_url_for_sqlalchemy(url: str) -> str:
    """Turn a SQLITE_URL into the `sqlite+aiosqlite:///PATH` form SQLAlchemy expects.

    `sqlite://PATH` and `sqlite3://PATH` are the jobworkerp forms: the text
    after `://` is the file path as written, so `sqlite://jobs.db` is relative
    to the working directory and `sqlite:///var/lib/jobs.db` is absolute. A
    query string such as `?mode=rwc` is dropped. `sqlite+aiosqlite://` URLs
    pass through unchanged, and `:memory:` keeps the database in memory.
    """
    if url.startswith("sqlite+aiosqlite://"):
        return url
    path = url
    for prefix in ("sqlite3://", "sqlite://"):
        if url.startswith(prefix):
            path = url[len(prefix) :].split("?", 1)[0]
            break
    if path in ("", ":memory:"):
        return "sqlite+aiosqlite:///:memory:"
    return f"sqlite+aiosqlite:///{path}"
