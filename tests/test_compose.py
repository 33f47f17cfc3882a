"""compose.yaml, the Dockerfile and .dockerignore, checked without Docker.

compose.yaml is validated against the Compose Specification's JSON Schema (vendored in tests/data, see
compose-spec.NOTICE.md), then against what Vitrine needs: the services, their health checks and start-up
order, and an environment that the application's own settings loader accepts.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shlex
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import msgspec
import pytest
import yaml

from backend.core.settings import DEVELOPMENT_SECRET, Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
SCHEMA_FILE = Path(__file__).resolve().parent / "data" / "compose-spec.json"

APP_SERVICES = ("migrate", "web", "worker")
MAIL_CATCHER = "mailpit"
CHECKED_SERVICES = ("postgres", "redis", "web", "worker", MAIL_CATCHER)
SETTING_NAMES = {field.encode_name for field in msgspec.structs.fields(Settings)}

# Compose interpolation: `$$` is a literal dollar; `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}`...
_INTERPOLATION = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}")
_BARE_VARIABLE = re.compile(r"(?<!\$)\$[A-Za-z_]")


def _load_compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """compose.yaml as Compose reads it (YAML anchors and merge keys resolved)."""
    return _load_compose()


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The services of compose.yaml."""
    found = compose["services"]
    assert isinstance(found, dict)
    return found


@pytest.fixture(scope="module")
def schema_validator() -> jsonschema.protocols.Validator:
    """A validator for the Compose Specification schema, itself checked against its metaschema."""
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert "draft/2019-09" in schema["$schema"]
    jsonschema.Draft201909Validator.check_schema(schema)
    return jsonschema.Draft201909Validator(schema)


def _interpolate_defaults(value: str) -> str:
    """Substitute as Compose would with none of the variables set: every reference must carry a default."""

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        op = match.group("op")
        if op not in {":-", "-"}:
            raise AssertionError(f"{match.group(0)} has no default value: compose.yaml must work with no .env")
        return match.group("arg")

    assert not _BARE_VARIABLE.search(value.replace("$$", "")), f"use ${{VAR:-default}}, not $VAR: {value!r}"
    return _INTERPOLATION.sub(substitute, value)


def _environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment (mapping or `KEY=value` list form), interpolated with the defaults."""
    raw = service.get("environment", {})
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw)
    assert isinstance(raw, dict)
    environment: dict[str, str] = {}
    for name, value in raw.items():
        assert value is not None, f"{name} has no value: it would come from the host's environment"
        text = value if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
        environment[str(name)] = _interpolate_defaults(text)
    return environment


def _healthcheck_argv(service: dict[str, Any]) -> list[str]:
    """The command of a service's health check, as an argument list."""
    healthcheck = service.get("healthcheck")
    assert isinstance(healthcheck, dict), "no healthcheck"
    assert not healthcheck.get("disable", False), "healthcheck disabled"
    test = healthcheck.get("test")
    if isinstance(test, str):
        return shlex.split(test)
    assert isinstance(test, list), "healthcheck without a test command"
    assert test, "empty healthcheck test"
    assert test[0] in {"CMD", "CMD-SHELL"}, f"healthcheck test must start with CMD or CMD-SHELL, not {test[0]!r}"
    argv = [str(part) for part in test[1:]]
    return shlex.split(argv[0]) if test[0] == "CMD-SHELL" else argv


def _python_check_url(argv: list[str]) -> str:
    """The URL a `python -c "...urllib..."` health check opens, after checking that the code compiles."""
    assert argv[:2] == ["python", "-c"], f"expected a python -c health check, got {argv}"
    code = argv[2]
    compile(code, "<healthcheck>", "exec")
    assert "urllib.request.urlopen(" in code
    match = re.search(r"urlopen\('(?P<url>[^']+)'", code)
    assert match, f"no literal URL in {code!r}"
    return match.group("url")


def _depends_on(service: dict[str, Any]) -> dict[str, str]:
    """A service's dependencies and their conditions (the short list form means service_started)."""
    raw = service.get("depends_on", {})
    if isinstance(raw, list):
        return dict.fromkeys(raw, "service_started")
    return {name: str(spec.get("condition", "service_started")) for name, spec in raw.items()}


class _Answers(BaseHTTPRequestHandler):
    """Answers 200 on the path the server was told, 503 anywhere else."""

    def do_GET(self) -> None:
        healthy_path = getattr(self.server, "healthy_path", "")
        self.send_response(200 if self.path == healthy_path else 503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def local_server() -> Iterator[ThreadingHTTPServer]:
    """A throwaway HTTP server on a free loopback port, to run health-check commands against."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _run_check(code: str, server: ThreadingHTTPServer, healthy_path: str, env: dict[str, str] | None = None) -> int:
    """Exit status of a `python -c` health check whose server answers 200 only on healthy_path."""
    server.healthy_path = healthy_path  # type: ignore[attr-defined]
    completed = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **(env or {})},
        capture_output=True,
        timeout=30,
        check=False,
    )
    return completed.returncode


# --- compose.yaml against the Compose Specification ---


def test_compose_file_matches_the_compose_specification_schema(
    compose: dict[str, Any], schema_validator: jsonschema.protocols.Validator
) -> None:
    errors = sorted(schema_validator.iter_errors(compose), key=lambda error: list(error.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("services", "web", "healthcheck", "tset"), ["CMD", "true"]),
        (("services", "web", "depends_on", "postgres", "condition"), "service_ready"),
        (("services", "web", "restart"), 3),
        (("services", "worker", "environment"), "DATABASE_URL=postgresql://x"),
    ],
    ids=["unknown-key", "bad-condition", "bad-type", "bad-environment"],
)
def test_schema_validation_rejects_broken_files(
    compose: dict[str, Any], schema_validator: jsonschema.protocols.Validator, path: tuple[str, ...], value: object
) -> None:
    """The schema check is no formality: small mistakes in the file are caught."""
    broken = copy.deepcopy(compose)
    target = broken
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert not schema_validator.is_valid(broken)


def test_compose_file_uses_the_compose_specification_format() -> None:
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    assert "version" not in _load_compose(), "the Compose Specification has no top-level `version:`"
    first_lines = text.splitlines()[:12]
    assert first_lines[0].startswith("#"), "compose.yaml opens with a comment explaining its use"
    header = "\n".join(first_lines)
    assert "docker compose up" in header
    assert "docker compose run --rm web vitrine seed" in header


# --- services, health checks and start-up order ---


def test_every_service_is_there(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) >= {"postgres", "redis", MAIL_CATCHER, *APP_SERVICES}
    assert services["postgres"]["image"].split(":")[0] == "postgres"
    assert services["postgres"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"
    assert services[MAIL_CATCHER]["image"].split(":")[0] == "axllent/mailpit"


@pytest.mark.parametrize("name", CHECKED_SERVICES)
def test_long_running_services_have_a_healthcheck(services: dict[str, dict[str, Any]], name: str) -> None:
    argv = _healthcheck_argv(services[name])
    assert argv, f"{name}: empty healthcheck command"


def test_postgres_healthcheck_uses_pg_isready_for_the_app_database(services: dict[str, dict[str, Any]]) -> None:
    postgres = services["postgres"]
    argv = _healthcheck_argv(postgres)
    assert argv[0] == "pg_isready"
    environment = _environment(postgres)
    assert argv[argv.index("-U") + 1] == environment["POSTGRES_USER"]
    assert argv[argv.index("-d") + 1] == environment["POSTGRES_DB"] == "vitrine"
    assert {"POSTGRES_USER", "POSTGRES_PASSWORD"} <= set(environment)


def test_redis_keeps_its_append_only_file_and_answers_ping(services: dict[str, dict[str, Any]]) -> None:
    redis = services["redis"]
    assert _healthcheck_argv(redis) == ["redis-cli", "ping"]
    command = redis["command"]
    command = shlex.split(command) if isinstance(command, str) else command
    assert command[command.index("--appendonly") + 1] == "yes"


def test_mail_catcher_healthcheck_and_ports(services: dict[str, dict[str, Any]]) -> None:
    mailpit = services[MAIL_CATCHER]
    assert _healthcheck_argv(mailpit) == ["/mailpit", "readyz"]
    smtp = urlsplit(_environment(services["worker"])["SMTP_URL"])
    assert (smtp.hostname, smtp.port) == (MAIL_CATCHER, 1025)
    assert any(str(port).endswith("8025:8025") for port in mailpit.get("ports", [])), "Mailpit's web UI"


def test_web_healthcheck_asks_readiness_on_the_served_port(services: dict[str, dict[str, Any]]) -> None:
    web = services["web"]
    url = urlsplit(_python_check_url(_healthcheck_argv(web)))
    assert (url.hostname, url.path) == ("127.0.0.1", "/readyz")
    assert url.port == 8000
    assert any(str(port).endswith("8000:8000") for port in web["ports"])


def test_worker_healthcheck_reads_its_metrics_port(services: dict[str, dict[str, Any]]) -> None:
    worker = services["worker"]
    environment = _environment(worker)
    url = urlsplit(_python_check_url(_healthcheck_argv(worker)))
    assert (url.hostname, url.path) == ("127.0.0.1", "/metrics")
    assert url.port == int(environment["WORKER_METRICS_PORT"]) == 9100
    assert environment["VITRINE_HOST"] == "0.0.0.0"  # noqa: S104 (inside the worker's container)


@pytest.mark.parametrize(("name", "path"), [("web", "/readyz"), ("worker", "/metrics")])
def test_app_healthchecks_pass_on_200_and_fail_otherwise(
    services: dict[str, dict[str, Any]], local_server: ThreadingHTTPServer, name: str, path: str
) -> None:
    argv = _healthcheck_argv(services[name])
    url = urlsplit(_python_check_url(argv))
    code = argv[2].replace(f"127.0.0.1:{url.port}", f"127.0.0.1:{local_server.server_port}")
    assert _run_check(code, local_server, healthy_path=path) == 0
    assert _run_check(code, local_server, healthy_path="/elsewhere") != 0


@pytest.mark.parametrize(("name", "command"), [("migrate", "migrate"), ("web", "web"), ("worker", "worker")])
def test_app_services_run_their_vitrine_command(services: dict[str, dict[str, Any]], name: str, command: str) -> None:
    assert services[name]["command"] == ["vitrine", command]


def test_migrate_runs_once_after_postgres_is_healthy(services: dict[str, dict[str, Any]]) -> None:
    migrate = services["migrate"]
    assert _depends_on(migrate).get("postgres") == "service_healthy"
    assert migrate.get("restart") == "no"


@pytest.mark.parametrize("name", ["web", "worker"])
def test_web_and_worker_start_after_healthy_services_and_completed_migrations(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    conditions = _depends_on(services[name])
    assert conditions.get("postgres") == "service_healthy"
    assert conditions.get("redis") == "service_healthy"
    assert conditions.get("migrate") == "service_completed_successfully"


def test_dependencies_name_existing_services(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        unknown = set(_depends_on(service)) - set(services)
        assert not unknown, f"{name} depends on unknown services {unknown}"


def test_services_that_build_use_the_root_dockerfile(services: dict[str, dict[str, Any]]) -> None:
    builders = {name for name, service in services.items() if "build" in service}
    assert builders == set(APP_SERVICES)
    for name in builders:
        build = services[name]["build"]
        if isinstance(build, str):
            build = {"context": build}
        context, dockerfile = build.get("context", "."), build.get("dockerfile", "Dockerfile")
        assert (ROOT / context / dockerfile).resolve() == DOCKERFILE, f"{name} builds from {context}/{dockerfile}"


def test_named_volumes_are_declared(compose: dict[str, Any], services: dict[str, dict[str, Any]]) -> None:
    declared = set(compose.get("volumes") or {})
    assert {"postgres-data", "redis-data"} <= declared
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume.get("source", "")
            if source and not source.startswith((".", "/", "~")):
                assert source in declared, f"{name}: volume {source} is not declared"
    assert "postgres-data:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    assert "redis-data:/data" in services["redis"]["volumes"]


# --- the application's environment ---


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_set_only_known_settings(services: dict[str, dict[str, Any]], name: str) -> None:
    unknown = set(_environment(services[name])) - SETTING_NAMES
    assert not unknown, f"{name} sets variables that are no setting: {sorted(unknown)}"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_settings_loader_accepts_the_compose_environment(services: dict[str, dict[str, Any]], name: str) -> None:
    environment = _environment(services[name])
    settings = load_settings(environment)
    assert settings.env == "development"
    assert settings.database_url == "postgresql://vitrine:vitrine@postgres:5432/vitrine"
    assert settings.redis_url == "redis://redis:6379/0"
    assert settings.smtp_url == "smtp://mailpit:1025"
    assert settings.base_url == "http://localhost:8000"
    assert len(settings.secret_key) >= 40
    assert "development" in settings.secret_key


def test_compose_urls_point_at_the_compose_services(services: dict[str, dict[str, Any]]) -> None:
    postgres_env = _environment(services["postgres"])
    for name in APP_SERVICES:
        environment = _environment(services[name])
        database = urlsplit(environment["DATABASE_URL"])
        assert database.hostname == "postgres"
        assert database.username == postgres_env["POSTGRES_USER"]
        assert database.password == postgres_env["POSTGRES_PASSWORD"]
        assert database.path.lstrip("/") == postgres_env["POSTGRES_DB"]
        assert urlsplit(environment["REDIS_URL"]).hostname == "redis"


def test_the_development_secret_is_refused_in_production(services: dict[str, dict[str, Any]]) -> None:
    """Switching compose to production without a SECRET_KEY of one's own stops start-up."""
    environment = _environment(services["web"])
    assert environment["SECRET_KEY"] == DEVELOPMENT_SECRET
    production = {
        **environment,
        "VITRINE_ENV": "production",
        "BASE_URL": "https://vitrine.example",
        # Everything else production asks for, so that only the secret is left to refuse.
        "OIDC_ISSUER": "https://idp.vitrine.example",
        "OIDC_CLIENT_ID": "vitrine",
        "OIDC_CLIENT_SECRET": "a-client-secret-of-its-own",
    }
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        load_settings(production)


def test_interpolation_helper_follows_compose_rules() -> None:
    assert _interpolate_defaults("${A:-x}/${B-y}/$$HOME") == "x/y/$HOME"
    with pytest.raises(AssertionError):
        _interpolate_defaults("${NO_DEFAULT}")
    with pytest.raises(AssertionError):
        _interpolate_defaults("$BARE")


# --- Dockerfile and .dockerignore ---


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with comments dropped and continuation lines joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, arguments = (pending + stripped).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    assert not pending, "Dockerfile ends inside a continued line"
    return instructions


def _final_stage() -> list[tuple[str, str]]:
    instructions = _dockerfile_instructions()
    last_from = max(index for index, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def test_dockerfile_is_multi_stage_on_python_3_11_slim() -> None:
    instructions = _dockerfile_instructions()
    stages = [arguments for keyword, arguments in instructions if keyword == "FROM"]
    assert len(stages) >= 2
    build_args = dict(arguments.split("=", 1) for keyword, arguments in instructions if keyword == "ARG")
    for stage in stages:
        image = stage.split()[0]
        if image.startswith("${"):
            image = build_args[image.removeprefix("${").removesuffix("}")]
        assert image == "python:3.11-slim"
    assert any(keyword == "COPY" and arguments.startswith("--from=") for keyword, arguments in _final_stage())


def test_dockerfile_installs_the_project_without_dev_extras() -> None:
    runs = " ".join(arguments for keyword, arguments in _dockerfile_instructions() if keyword == "RUN")
    assert re.search(r"pip install (\S+ )*\.(\s|$)", runs), "the project is installed with `pip install .`"
    assert "[dev]" not in runs
    assert "-e " not in runs, "a real install, not an editable one"


def test_dockerfile_runs_as_an_unprivileged_user() -> None:
    final = _final_stage()
    users = [arguments for keyword, arguments in final if keyword == "USER"]
    assert users, "the final stage sets USER"
    assert users[-1].split(":")[0] not in {"root", "0"}
    assert users[-1].split(":")[0] == "vitrine"
    keywords = [keyword for keyword, _ in final]
    assert keywords.index("USER") < keywords.index("CMD")


def test_dockerfile_serves_the_web_app_with_a_healthcheck() -> None:
    final = _final_stage()
    by_keyword: dict[str, list[str]] = {}
    for keyword, arguments in final:
        by_keyword.setdefault(keyword, []).append(arguments)
    assert by_keyword["EXPOSE"] == ["8000"]
    assert json.loads(by_keyword["CMD"][-1]) == ["vitrine", "web"]
    assert "ENTRYPOINT" not in by_keyword, "`docker compose run --rm web vitrine seed` needs no entrypoint"
    environment = " ".join(by_keyword["ENV"])
    assert re.search(r"(^|\s)VITRINE_HOST=0\.0\.0\.0(\s|$)", environment)
    for name in re.findall(r"(?:^|\s)(VITRINE_[A-Z_]+)=", environment):
        assert name in SETTING_NAMES, f"Dockerfile sets unknown setting {name}"


def test_dockerfile_healthcheck_asks_liveness_on_the_configured_port(local_server: ThreadingHTTPServer) -> None:
    healthcheck = next(arguments for keyword, arguments in _final_stage() if keyword == "HEALTHCHECK")
    argv = json.loads(healthcheck[healthcheck.index("CMD ") + len("CMD ") :])
    assert _python_check_url(argv) == "http://127.0.0.1:"
    env = {"VITRINE_PORT": str(local_server.server_port)}
    assert _run_check(argv[2], local_server, healthy_path="/healthz", env=env) == 0
    assert _run_check(argv[2], local_server, healthy_path="/readyz", env=env) != 0


def test_dockerignore_keeps_local_state_out_of_the_build_context() -> None:
    entries = {
        line.strip().rstrip("/")
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".venv", ".local", ".git", "test-artifacts", ".pytest_cache", ".mypy_cache", ".ruff_cache"} <= entries
    assert "**/__pycache__" in entries or "__pycache__" in entries
    assert not {"backend", "frontend", "consent", "notifications", "pyproject.toml"} & entries
