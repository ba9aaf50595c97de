"""The deployment files under deploy/ name only what the project has.

Docker is not needed: the files are parsed (YAML, the Dockerfile's instructions) and every
command, option, image and ``ASSAY_*`` variable they name is looked up in the project: the
CLI's commands and options (``cli/main.py``'s ``COMMANDS``), the Settings fields and their
aliases, the API's routes and pyproject's extras. A renamed setting or option fails here
rather than in a cluster.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from assay.cli.main import COMMANDS, load_command
from assay.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
KUBERNETES = sorted((DEPLOY / "kubernetes").glob("*.yaml"))
#: The image the compose file builds from deploy/Dockerfile; every manifest runs it.
OUR_IMAGE = "assay:latest"


def setting_names() -> set[str]:
    """Every environment variable Settings reads: ASSAY_<FIELD> and the fields' aliases."""
    names: set[str] = set()
    for name, field in Settings.model_fields.items():
        names.add(f"ASSAY_{name.upper()}")
        alias = field.validation_alias
        if alias is not None:
            choices = getattr(alias, "choices", [alias])
            names.update(str(choice).upper() for choice in choices)
    return names


def option_envvars() -> set[str]:
    """Environment variables the CLI's options read (``serve``'s ASSAY_HOST, ...)."""
    found: set[str] = set()
    for name in COMMANDS:
        command = load_command(name)
        commands = (
            list(command.commands.values()) if isinstance(command, click.Group) else [command]
        )
        for each in commands:
            for param in each.params:
                envvar = getattr(param, "envvar", None)
                found.update([envvar] if isinstance(envvar, str) else envvar or [])
    return found


KNOWN_VARIABLES = setting_names() | option_envvars()


def check_assay_args(args: list[str]) -> None:
    """``assay ARGS`` names a command and only options that command has."""
    assert args and args[0] in COMMANDS, f"no assay command {args[:1]}"
    command = load_command(args[0])
    words = args[1:]
    if isinstance(command, click.Group):
        assert words and words[0] in command.commands, f"no assay {args[0]} {words[:1]}"
        command = command.commands[words[0]]
        words = words[1:]
    options = {opt for param in command.params for opt in param.opts + param.secondary_opts}
    for word in words:
        if word.startswith("--"):
            assert word.split("=", 1)[0] in options, f"assay {args[0]} has no option {word}"


def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (INSTRUCTION, arguments), continuation lines joined."""
    text = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines()]
    instructions = [line.split(None, 1) for line in lines if line and not line.startswith("#")]
    return [(parts[0].upper(), parts[1] if len(parts) > 1 else "") for parts in instructions]


def instruction(name: str) -> list[str]:
    return [args for found, args in dockerfile() if found == name]


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text()))


def manifests() -> Iterator[dict[str, Any]]:
    for path in KUBERNETES:
        yield from (doc for doc in yaml.safe_load_all(path.read_text()) if doc)


def pod_containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spec = doc.get("spec", {}).get("template", {}).get("spec", {})
    return [*spec.get("initContainers", []), *spec.get("containers", [])]


def compose_variables() -> set[str]:
    names: set[str] = set()
    for service in compose()["services"].values():
        environment = service.get("environment", {})
        if isinstance(environment, list):
            environment = dict(item.split("=", 1) for item in environment)
        names.update(k for k in environment if k != "<<")
    return names


def manifest_variables() -> set[str]:
    names: set[str] = set()
    for doc in manifests():
        if doc["kind"] in ("ConfigMap", "Secret"):
            names.update(doc.get("data", {}), doc.get("stringData", {}))
        for container in pod_containers(doc):
            names.update(item["name"] for item in container.get("env", []))
    return names


def dockerfile_variables() -> set[str]:
    names: set[str] = set()
    for args in instruction("ENV"):
        names.update(re.findall(r"([A-Z_][A-Z0-9_]*)=", args))
    return names


@pytest.mark.parametrize(
    "variables",
    [compose_variables, manifest_variables, dockerfile_variables],
    ids=lambda f: f.__name__,
)
def test_every_assay_variable_is_a_setting_or_an_option(variables: Any):
    named = variables()
    assert named, "the file names no variables at all"
    unknown = sorted(v for v in named if v.startswith("ASSAY_") and v not in KNOWN_VARIABLES)
    assert unknown == []
    # Provider keys are settings too (OPENAI_API_KEY is an alias of openai_api_key).
    other = {v for v in named if v.endswith("_API_KEY")}
    assert other <= KNOWN_VARIABLES


def test_the_dockerfile_serves_the_api_as_a_user_with_a_health_check():
    [entrypoint] = instruction("ENTRYPOINT")
    [cmd] = instruction("CMD")
    assert json.loads(entrypoint) == ["assay"]
    check_assay_args(json.loads(cmd))
    [user] = instruction("USER")
    assert user not in ("root", "0")
    [healthcheck] = instruction("HEALTHCHECK")
    assert "/healthz" in healthcheck and "/healthz" in api_paths()
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for run in instruction("RUN"):
        for wanted in re.findall(r'pip install "\.\[([^\]]+)\]"', run):
            assert set(wanted.split(",")) <= set(extras["optional-dependencies"])
    for copied in instruction("COPY"):
        for source in copied.split()[:-1]:
            assert (ROOT / source).exists(), f"COPY {source}: no such file"


def api_paths() -> set[str]:
    from assay.api.app import create_app

    return set(create_app(Settings()).openapi()["paths"])


def test_compose_runs_the_api_and_workers_on_postgres_and_redis():
    services = compose()["services"]
    assert {"api", "worker", "postgres", "redis"} <= set(services)
    build = services["api"]["build"]
    assert (COMPOSE.parent / build["context"] / build["dockerfile"]).is_file()
    for name in ("api", "worker"):
        assert services[name]["image"] == OUR_IMAGE
        check_assay_args(services[name]["command"])
    for name in ("postgres", "redis"):
        image = services[name]["image"]
        assert ":" in image and not image.endswith(":latest"), f"{name}: pin the image's version"
    environment = services["worker"]["environment"]
    assert environment["ASSAY_BROKER_URL"].startswith("redis://redis:")
    assert environment["ASSAY_DATABASE_URL"].startswith("postgresql+asyncpg://")


def test_kubernetes_manifests_run_our_image_with_the_config_and_secret_they_name():
    docs = list(manifests())
    kinds = sorted((d["kind"], d["metadata"]["name"]) for d in docs)
    assert kinds == [
        ("ConfigMap", "assay-config"),
        ("Deployment", "assay-api"),
        ("Deployment", "assay-worker"),
        ("Secret", "assay-secrets"),
        ("Service", "assay-api"),
    ]
    names = {(d["kind"], d["metadata"]["name"]) for d in docs}
    for doc in docs:
        for container in pod_containers(doc):
            assert container["image"] == OUR_IMAGE
            if "command" not in container:  # the image's entrypoint: assay
                check_assay_args(container["args"])
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    assert ("ConfigMap", source["configMapRef"]["name"]) in names
                if "secretRef" in source:
                    assert ("Secret", source["secretRef"]["name"]) in names


def test_the_api_service_reaches_the_port_the_api_serves_and_probes_health():
    docs = {(d["kind"], d["metadata"]["name"]): d for d in manifests()}
    [container] = pod_containers(docs[("Deployment", "assay-api")])
    args = container["args"]
    port = int(args[args.index("--port") + 1])
    [named] = container["ports"]
    assert named["containerPort"] == port
    [service_port] = docs[("Service", "assay-api")]["spec"]["ports"]
    assert service_port["targetPort"] in (named["name"], port)
    assert container["readinessProbe"]["httpGet"]["path"] in api_paths()
    selector = docs[("Service", "assay-api")]["spec"]["selector"]
    labels = docs[("Deployment", "assay-api")]["spec"]["template"]["metadata"]["labels"]
    assert selector.items() <= labels.items()
