"""docker-compose.yml parses and wires the bot to PostgreSQL and Redis with health checks."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import yaml

ROOT = Path(__file__).resolve().parents[2]


def load() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_the_three_services_with_health_checks() -> None:
    services = load()["services"]
    assert set(services) >= {"bot", "postgres", "redis"}
    for name in ("bot", "postgres", "redis"):
        assert "healthcheck" in services[name], name
        assert services[name]["healthcheck"]["test"]


def test_bot_points_at_the_other_two_and_waits_for_them() -> None:
    compose = load()
    bot = compose["services"]["bot"]
    env = bot["environment"]
    db = urlparse(env["DATABASE_URL"])
    redis = urlparse(env["REDIS_URL"])
    assert db.scheme == "postgres" and db.hostname == "postgres"
    assert redis.scheme == "redis" and redis.hostname == "redis"
    pg_env = compose["services"]["postgres"]["environment"]
    assert (db.username, db.password, db.path.lstrip("/")) == (
        pg_env["POSTGRES_USER"], pg_env["POSTGRES_PASSWORD"], pg_env["POSTGRES_DB"])
    assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert bot["depends_on"]["redis"]["condition"] == "service_healthy"


def test_database_has_a_volume() -> None:
    compose = load()
    volumes = compose["services"]["postgres"]["volumes"]
    assert any(v.split(":")[0] in compose["volumes"] and v.endswith("/var/lib/postgresql/data") for v in volumes)


def test_env_example_lists_every_setting() -> None:
    from bot.settings import Settings

    example = (ROOT / ".env.example").read_text()
    for name in Settings.model_fields:
        assert f"{name}=" in example, name
