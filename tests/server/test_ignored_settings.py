"""Settings that are given but that the configuration does not use."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from jwp.config import Settings
from tests.server.test_serve_process import clean_env


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_defaults_ignore_nothing() -> None:
    assert settings().ignored_settings() is None


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            {"redis_url": "redis://127.0.0.1:6379", "jwp_redis_key_prefix": "x:"},
            "REDIS_URL, JWP_REDIS_KEY_PREFIX (STORAGE_TYPE is Standalone, which uses no Redis)",
        ),
        (
            {"mysql_url": "mysql://root@127.0.0.1/test", "sqlite_url": "sqlite://a.db"},
            "SQLITE_URL (MYSQL_URL or MYSQL_HOST selects MySQL)",
        ),
        (
            {"mysql_url": "mysql://root@127.0.0.1/test", "mysql_port": 3307},
            "MYSQL_PORT (MYSQL_URL gives the whole connection)",
        ),
        ({"mysql_user": "jobs"}, "MYSQL_USER (neither MYSQL_URL nor MYSQL_HOST is set)"),
        ({"jwp_grpc_web_addr": "127.0.0.1:9001"}, "JWP_GRPC_WEB_ADDR (USE_GRPC_WEB is off)"),
    ],
)
def test_ignored_setting_named(values: dict[str, Any], expected: str) -> None:
    assert settings(**values).ignored_settings() == expected


def test_scalable_uses_redis() -> None:
    scalable = settings(storage_type="Scalable", redis_url="redis://127.0.0.1:6379")

    assert scalable.ignored_settings() is None


def test_serve_warns_once_about_ignored_settings(tmp_path: Path) -> None:
    env = {
        **clean_env(),
        "GRPC_ADDR": "127.0.0.1:0",
        "REDIS_URL": "redis://127.0.0.1:6379",
        "JWP_GRPC_WEB_ADDR": "127.0.0.1:0",
        # Missing TLS files stop the server after it has logged the settings
        # warning, so the test need not stop it.
        "JWP_TLS_CERT_FILE": str(tmp_path / "missing.pem"),
        "JWP_TLS_KEY_FILE": str(tmp_path / "missing-key.pem"),
    }
    completed = subprocess.run(
        [sys.executable, "-m", "jwp", "serve"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = completed.stdout + completed.stderr

    warnings = [line for line in output.splitlines() if "settings ignored" in line]
    assert len(warnings) == 1, output
    assert "REDIS_URL (STORAGE_TYPE is Standalone, which uses no Redis)" in warnings[0]
    assert "JWP_GRPC_WEB_ADDR (USE_GRPC_WEB is off)" in warnings[0]
