"""The `vitrine` command: composition root for web, worker, migrations, demo data and local development."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any
from uuid import UUID

from backend.access_log.demo import seed_accesses
from backend.access_log.receipts import verify_receipt_file
from backend.access_log.verify import verify_all, verify_citizen
from backend.core.auth.demo_clients import demo_client_id, key_id, key_path, register_demo_clients
from backend.core.auth.institution_keys import load_or_create_private_key, make_assertion
from backend.core.db import Connection, connect
from backend.core.dev_mail import dev_mail_sink
from backend.core.embedded import services_for
from backend.core.identity.demo import INSTITUTIONS, PERSONAS, seed_identity
from backend.core.identity.scale import MAX_CITIZENS, generate_people
from backend.core.migrations import MigrationError, migrate
from backend.core.settings import Settings, SettingsError, load_settings
from backend.records.demo import seed_records
from backend.records.service import on_records_accepted
from consent.demo import seed_agent_clients
from notifications.flexi import evaluate_flexi_after_ingest
from notifications.statuses import seed_person_statuses

# Seeding ingests records, which should raise the same notifications as a real ingest does.
on_records_accepted(evaluate_flexi_after_ingest)

READY_TIMEOUT_SECONDS = 90


async def _seed_identity(conn: Connection, settings: Settings) -> int:
    return await seed_identity(conn, secret=settings.secret_key)


async def _seed_demo_clients(conn: Connection, settings: Settings) -> int:
    return await register_demo_clients(conn, settings.local_path / "keys")


async def _seed_person_statuses(conn: Connection, settings: Settings) -> int:
    return await seed_person_statuses(conn)


async def _seed_records(conn: Connection, settings: Settings) -> int:
    return await seed_records(conn)


async def _seed_accesses(conn: Connection, settings: Settings) -> int:
    return await seed_accesses(conn)


async def _seed_agent_clients(conn: Connection, settings: Settings) -> int:
    return await seed_agent_clients(conn)


# Each area adds its demo seeder here, in dependency order (idempotent, through its own service functions).
DEMO_SEEDERS: list[Callable[[Connection, Settings], Awaitable[int]]] = [
    _seed_identity,
    _seed_demo_clients,
    _seed_person_statuses,
    _seed_records,
    _seed_accesses,
    _seed_agent_clients,
]
DEMO_TRIES = [
    "Sign in as Sofie Peeters at {base}/dev/sign-in: see her flexi income against this year's ceiling at "
    "{base}/my-data/flexi_wages, the warning in {base}/inbox, and every access to her data at {base}/access-log.",
    "As Sofie, give Pieter Janssens a mandate at {base}/helpers/new; sign in as Pieter elsewhere, accept it at "
    "{base}/helping with the code, act for Sofie; end it as Sofie and watch Pieter's next page.",
    "Sign in as Isabelle Renard (CPAS access manager): {base}/organisation/clients names agents for clients. Sign in "
    "as Nathalie Lambert, choose to work as agent of the CPAS at {base}/my, and act for Jean Dubois at "
    "{base}/organisation/my-clients.",
    "Contest an access on {base}/access-log, then sign in as Marc Willems (reviewer) and answer it at {base}/review; "
    "Lieve Claes, a reviewer at ONEM, sees only the questions about ONEM's accesses.",
    'Call the institution API: curl -H "Authorization: Bearer $(.venv/bin/vitrine institution-token ONEM '
    '--purpose unemployment_benefit)" {base}/api/v1/institution/whoami (a second use of one token is refused).',
    "Switch the language at the top of any page; check {base}/readyz; read the API at {base}/schema.",
]


async def seed_demo_data(database_url: str, settings: Settings) -> str:
    """Run every area's demo seeder in one transaction; a second run adds nothing."""
    conn = await connect(database_url)
    try:
        async with conn.transaction():
            added = [await seeder(conn, settings) for seeder in DEMO_SEEDERS]
    finally:
        await conn.close()
    return f"Demo data: {sum(added)} row(s) added by {len(DEMO_SEEDERS)} seeder(s)."


def demo_personas_text(base: str) -> str:
    """Who to sign in as, one line each."""
    lines = [f"  Sign in as a demo person at {base}/dev/sign-in :"]
    lines += [f"    - {p.given_name} {p.family_name}: {p.summary}" for p in PERSONAS]
    return "\n".join(lines)


def _settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        print(f"vitrine: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _require_urls(settings: Settings) -> tuple[str, str]:
    if settings.database_url is None or settings.redis_url is None:
        missing = "DATABASE_URL" if settings.database_url is None else "REDIS_URL"
        print(
            f"vitrine: configuration error: {missing}: not set (use `make run`, which starts embedded services)",
            file=sys.stderr,
        )
        raise SystemExit(2)
    return settings.database_url, settings.redis_url


async def _migrate(database_url: str) -> int:
    conn = await connect(database_url, as_app=False)
    try:
        return len(await migrate(conn))
    finally:
        await conn.close()


def command_migrate(settings: Settings) -> int:
    """Apply pending migrations."""
    database_url, _ = _require_urls(settings)
    try:
        applied = asyncio.run(_migrate(database_url))
    except MigrationError as exc:
        print(f"vitrine: migration refused: {exc}", file=sys.stderr)
        return 3
    print(f"vitrine: {applied} migration(s) applied")
    return 0


def parse_scale(value: str) -> int:
    """The number of citizens in `--scale citizens=N`; ValueError with a one-line reason otherwise."""
    name, _, number = value.partition("=")
    if name.strip() != "citizens" or not (number.isascii() and number.strip().isdigit()):
        raise ValueError("--scale: expected citizens=N, with N a whole number (e.g. citizens=1000000)")
    citizens = int(number)
    if not 1 <= citizens <= MAX_CITIZENS:
        raise ValueError(f"--scale: citizens must be between 1 and {MAX_CITIZENS}")
    return citizens


async def seed_citizens(database_url: str, citizens: int) -> str:
    """Add the generated benchmark population (resumable), printing a progress line after every batch."""
    started = time.monotonic()

    def report(added: int) -> None:
        seconds = max(time.monotonic() - started, 1e-6)
        print(f"vitrine: {added:,} people added ({added / seconds:,.0f} people/s)", flush=True)

    conn = await connect(database_url)
    try:
        added = await generate_people(conn, citizens=citizens, progress=report)
    finally:
        await conn.close()
    seconds = time.monotonic() - started
    return (
        f"Generated citizens: {added} added, {citizens - added} already there, in {seconds:.1f} s "
        f"({added / max(seconds, 1e-6):,.0f} people/s)."
    )


def command_seed(settings: Settings, scale: str | None = None) -> int:
    """Load the demo data (idempotent), plus `--scale citizens=N` generated people; refused in production."""
    if settings.is_production:
        print("vitrine: demo data is never loaded in production", file=sys.stderr)
        return 2
    try:
        citizens = None if scale is None else parse_scale(scale)
    except ValueError as exc:
        print(f"vitrine seed: {exc}", file=sys.stderr)
        return 2
    database_url, _ = _require_urls(settings)
    print(asyncio.run(seed_demo_data(database_url, settings)))
    if citizens is not None:
        print(asyncio.run(seed_citizens(database_url, citizens)))
    return 0


def command_web(settings: Settings) -> int:
    """Serve the web app with uvicorn."""
    import uvicorn

    from backend.core.log_setup import configure_logging
    from backend.core.process_metrics import shared_metrics

    _require_urls(settings)
    configure_logging(settings.log_level)
    # Several worker processes count their requests together (backend.core.process_metrics).
    with shared_metrics(settings.web_workers):
        uvicorn.run("backend.cli:web_app_factory", **uvicorn_options(settings))
    return 0


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """How `vitrine web` runs uvicorn (the benchmarks' bare baseline is served with the very same options)."""
    return {
        "factory": True,
        "host": settings.host,
        "port": settings.port,
        "workers": settings.web_workers,
        "proxy_headers": True,
        "forwarded_allow_ips": "127.0.0.1",
        "server_header": False,
        "log_config": None,
    }


def web_app_factory() -> Any:
    """Uvicorn's factory: builds the app from the environment in each web process.

    Once the process has started (pools open), its long-lived objects are frozen out of the garbage collector's
    way (backend.core.heap); when it stops cleanly, its requests in progress leave the shared metrics
    (backend.core.process_metrics).
    """
    from backend.app import create_app
    from backend.core.heap import settle_heap
    from backend.core.process_metrics import withdraw_process

    app = create_app(load_settings())
    app.on_startup.append(settle_heap)
    app.on_shutdown.append(withdraw_process)
    return app


def command_worker(settings: Settings) -> int:
    """Run the background worker."""
    from backend.worker import run_worker

    _require_urls(settings)
    run_worker(settings)
    return 0


def command_embedded(settings: Settings, command: Sequence[str]) -> int:
    """Run a command with DATABASE_URL and REDIS_URL set, starting embedded servers for unset ones."""
    if not command:
        print("vitrine embedded: give a command after --", file=sys.stderr)
        return 2
    with services_for(settings.local_path, database_url=settings.database_url, redis_url=settings.redis_url) as urls:
        return subprocess.call(list(command), env={**os.environ, **urls})  # noqa: S603 (the developer's own command)


def command_dev(settings: Settings) -> int:
    """`make run`: services, migrations, demo data, web and worker together, until Ctrl-C."""
    if settings.is_production:
        print("vitrine dev: not for production; run `vitrine web` and `vitrine worker`", file=sys.stderr)
        return 2
    started = time.monotonic()
    # E-mail goes to the SMTP server named in SMTP_URL, or else to a sink that keeps each message in a folder.
    mail_dir = None if "SMTP_URL" in os.environ else settings.local_path / "dev-mail"
    with (
        services_for(settings.local_path, database_url=settings.database_url, redis_url=settings.redis_url) as urls,
        dev_mail_sink(mail_dir) if mail_dir is not None else nullcontext(settings.smtp_url) as smtp_url,
    ):
        env = {**os.environ, **urls, "SMTP_URL": smtp_url}
        asyncio.run(_migrate(urls["DATABASE_URL"]))
        seeded = asyncio.run(seed_demo_data(urls["DATABASE_URL"], settings))
        children = [
            subprocess.Popen([sys.executable, "-m", "backend.cli", role], env=env)  # noqa: S603
            for role in ("web", "worker")
        ]
        stopping = False

        def stop(signum: int, _frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        try:
            ready = _wait_ready(f"http://{settings.host}:{settings.port}/readyz", children)
            if ready:
                _print_banner(settings, seeded, time.monotonic() - started, mail_dir)
            while not stopping and ready and all(child.poll() is None for child in children):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            _stop_children(children)
        print("\nvitrine: stopped web, worker and embedded services.")
        return 0 if ready else 1


def _wait_ready(url: str, children: list[subprocess.Popen[bytes]]) -> bool:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if any(child.poll() is not None for child in children):
            print("vitrine: a process stopped during start-up (see the lines above)", file=sys.stderr)
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 (our own loopback URL)
                if answer.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    print(f"vitrine: not ready after {READY_TIMEOUT_SECONDS} s", file=sys.stderr)
    return False


def _stop_children(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _print_banner(settings: Settings, seeded: str, seconds: float, mail_dir: Path | None) -> None:
    base = f"http://{settings.host}:{settings.port}"
    mail = (
        f"  E-mail: caught in {mail_dir / 'new'} (one file per message; set SMTP_URL to send it on)"
        if mail_dir is not None
        else f"  E-mail: sent to {settings.smtp_url}"
    )
    lines = [
        "",
        "=" * 72,
        f"  Vitrine is up at {base}/   (ready in {seconds:.1f} s)",
        f"  {seeded}",
        "",
        demo_personas_text(base),
        "",
        "  Things to try:",
        *(f"    {number}. {text.format(base=base)}" for number, text in enumerate(DEMO_TRIES, start=1)),
        "",
        f"  Health: {base}/readyz   Metrics: {base}/metrics   API: {base}/schema",
        mail,
        "  Press Ctrl-C to stop everything.",
        "=" * 72,
        "",
    ]
    print("\n".join(lines), flush=True)


def command_institution_token(settings: Settings, code: str, purpose: str | None) -> int:
    """Print a fresh signed assertion for a demo institution (development and test only)."""
    if settings.is_production:
        print("vitrine: demo institution keys do not exist in production", file=sys.stderr)
        return 2
    known = {demo.code for demo in INSTITUTIONS}
    if code.upper() not in known:
        print(
            f"vitrine: unknown institution code (one of: {', '.join(sorted(c for c in known if c))})", file=sys.stderr
        )
        return 2
    path = key_path(settings.local_path / "keys", code.upper())
    if not path.exists():
        print("vitrine: no demo key yet: run `vitrine seed` (or `make run`) first", file=sys.stderr)
        return 2
    key = load_or_create_private_key(path)
    print(make_assertion(key, client_id=demo_client_id(code.upper()), kid=key_id(key), purpose=purpose))
    return 0


async def _verify_log(database_url: str, citizen: UUID | None) -> int:
    conn = await connect(database_url)
    try:
        if citizen is not None:
            reports = [await verify_citizen(conn, citizen)]
            checked = 1
        else:
            checked, reports = await verify_all(conn)
    finally:
        await conn.close()
    broken = [report for report in reports if report.broken is not None]
    for report in broken:
        link = report.broken
        assert link is not None
        print(
            f"BROKEN citizen {link.citizen_id} at seq {link.seq} (event {link.event_id}): {link.problem}: "
            f"expected {link.expected}, found {link.found}"
        )
    if citizen is not None and not broken:
        print(f"vitrine: chain of citizen {citizen} intact: {reports[0].events} event(s), head {reports[0].head_hash}")
    else:
        print(f"vitrine: {checked} chain(s) checked, {len(broken)} broken")
    return 1 if broken else 0


def command_verify_log(settings: Settings, citizen: str | None) -> int:
    """Recompute the access-log hash chains and name the first broken link of each."""
    database_url, _ = _require_urls(settings)
    try:
        citizen_id = UUID(citizen) if citizen else None
    except ValueError:
        print("vitrine verify-log: --citizen takes an internal person id (a UUID)", file=sys.stderr)
        return 2
    return asyncio.run(_verify_log(database_url, citizen_id))


def build_parser() -> argparse.ArgumentParser:
    """The command-line grammar."""
    parser = argparse.ArgumentParser(prog="vitrine", description="Vitrine: Belgian social-security data.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("web", help="serve the web app and API")
    commands.add_parser("worker", help="run the background worker")
    commands.add_parser("migrate", help="apply database migrations")
    seed = commands.add_parser("seed", help="load the demo data (idempotent; never in production)")
    seed.add_argument(
        "--scale", metavar="citizens=N", help="also generate N realistic people for benchmarks (resumable)"
    )
    commands.add_parser("dev", help="everything for local development (what `make run` does)")
    commands.add_parser("check-config", help="validate the configuration and exit")
    token = commands.add_parser("institution-token", help="print a signed assertion for a demo institution")
    token.add_argument("code", help="institution code, e.g. ONEM")
    token.add_argument("--purpose", help="purpose code to sign into the assertion, e.g. unemployment_benefit")
    verify = commands.add_parser("verify-log", help="recompute the access-log hash chains")
    verify.add_argument("--citizen", help="internal person id (UUID) of one citizen; default: every chain")
    receipt = commands.add_parser("verify-receipt", help="check an access-log receipt offline")
    receipt.add_argument("file", help="the receipt (a JWS file)")
    receipt.add_argument("--jwks", help="Vitrine's published keys (default: this installation's own key)")
    embedded = commands.add_parser("embedded", help="run a command with embedded services for unset URLs")
    embedded.add_argument("argv", nargs=argparse.REMAINDER, help="the command, after --")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `vitrine` console script."""
    args = build_parser().parse_args(argv)
    settings = _settings_or_exit()
    match args.command:
        case "web":
            return command_web(settings)
        case "worker":
            return command_worker(settings)
        case "migrate":
            return command_migrate(settings)
        case "seed":
            return command_seed(settings, args.scale)
        case "dev":
            return command_dev(settings)
        case "institution-token":
            return command_institution_token(settings, args.code, args.purpose)
        case "verify-log":
            return command_verify_log(settings, args.citizen)
        case "verify-receipt":
            jwks = Path(args.jwks) if args.jwks else None
            code, message = verify_receipt_file(Path(args.file), jwks, settings.local_path)
            print(message, file=sys.stdout if code == 0 else sys.stderr)
            return code
        case "check-config":
            print(f"vitrine: configuration valid for {settings.env}")
            return 0
        case "embedded":
            command = list(args.argv)
            if command[:1] == ["--"]:
                command = command[1:]
            return command_embedded(settings, command)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
