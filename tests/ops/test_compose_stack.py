"""docker-compose.yml runs the bot as two replicas on PostgreSQL and Redis, each with a health check,
a restart policy and its data on a volume. The docker CLI has no engine here: the file is parsed and
checked; where `docker compose` exists, `docker compose config` must accept it too."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_the_bot_runs_as_two_replicas_sharing_redis_and_postgres() -> None:
    bot = compose()["services"]["bot"]
    assert bot["deploy"]["replicas"] >= 2
    assert bot["environment"]["REDIS_URL"].startswith("redis://redis:")      # leadership needs Redis
    assert bot["environment"]["DATABASE_URL"].startswith("postgres://")
    # One host port per replica (a single fixed one would stop the second from starting).
    host_ports = bot["ports"][0].split(":")[1]
    first, last = (int(p) for p in host_ports.split("-"))
    assert last - first + 1 >= bot["deploy"]["replicas"]
    assert bot["ports"][0].startswith("127.0.0.1:")                          # loopback: a proxy in front


def test_every_service_restarts_and_checks_its_health() -> None:
    services = compose()["services"]
    for name in ("bot", "postgres", "redis"):
        assert services[name]["restart"] in ("unless-stopped", "always"), name
        assert services[name]["healthcheck"]["test"], name
    assert "/healthz" in " ".join(services["bot"]["healthcheck"]["test"])
    assert services["bot"]["stop_grace_period"]


def test_data_lives_on_volumes_and_redis_keeps_the_fencing_counter() -> None:
    stack = compose()
    for service, path in (("postgres", "/var/lib/postgresql/data"), ("redis", "/data")):
        volumes = stack["services"][service]["volumes"]
        assert any(v.split(":")[0] in stack["volumes"] and v.endswith(path) for v in volumes), service
    command = stack["services"]["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"


def test_the_env_file_is_optional_so_config_validates_without_secrets() -> None:
    env_file = compose()["services"]["bot"]["env_file"]
    assert env_file == [{"path": ".env", "required": False}]


@pytest.mark.skipif(shutil.which("docker") is None, reason="no docker CLI on this machine")
def test_docker_compose_config_accepts_the_file() -> None:
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        pytest.skip("docker CLI without the compose plugin")
    result = subprocess.run(["docker", "compose", "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
                            capture_output=True, text=True, check=False, cwd=ROOT)
    assert result.returncode == 0, result.stderr
