"""The production files, checked with what runs without a container engine."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from prefect.flows import load_flow_from_entrypoint

from cli.stack import SCHEDULER_ENV

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def test_every_yaml_file_parses() -> None:
    for path in DEPLOY.rglob("*.yaml"):
        assert list(yaml.safe_load_all(path.read_text())), path


def test_the_dockerfile_copies_what_exists() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    sources = [s for line in re.findall(r"^COPY (.+) \S+$", text, re.M) for s in line.split()]
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), source


def test_prefect_deployments_point_at_the_real_flows() -> None:
    config = yaml.safe_load((DEPLOY / "prefect.yaml").read_text())
    names = {}
    for deployment in config["deployments"]:
        flow = load_flow_from_entrypoint(str(ROOT / deployment["entrypoint"]))
        names[deployment["name"]] = flow.name
    assert names == {"repatriation": "repatriation", "sweeper": "sweeper"}


def test_every_homeward_container_gets_the_shared_secrets() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    for name in ("migrate", "worker", "api", "deploy-flows"):
        environment = compose["services"][name]["environment"]
        for variable in (
            "HOMEWARD_DATABASE_URL",
            "HOMEWARD_JWT_SECRET",
            "HOMEWARD_ENCRYPTION_KEYS",
        ):
            assert variable in environment, (name, variable)


def test_each_api_replica_has_a_host_port_of_its_own() -> None:
    api = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]["api"]
    (published,) = api["ports"]
    host_ports = published.split(":")[1]
    first, _, last = host_ports.partition("-")
    count = int(last or first) - int(first) + 1
    assert count == api["deploy"]["replicas"], published


def test_workers_find_the_code_where_the_image_keeps_it() -> None:
    config = yaml.safe_load((DEPLOY / "prefect.yaml").read_text())
    (step,) = config["pull"]
    directory = step["prefect.deployments.steps.set_working_directory"]["directory"]
    assert directory == "{{ $HOMEWARD_APP_DIR }}"
    assert "HOMEWARD_APP_DIR=/app" in (DEPLOY / "Dockerfile").read_text()


def test_the_prefect_server_schedules_sweeps_as_the_embedded_one_does() -> None:
    server = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]["prefect-server"]
    assert SCHEDULER_ENV.items() <= server["environment"].items()
