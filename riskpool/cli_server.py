"""`riskpool serve`, `riskpool keys …` and `riskpool projections run`."""

from __future__ import annotations

import gc
import getpass
import signal
import sys
import threading
import uuid

import typer

from ledger.actors import Actor, Role
from ledger.domain.key import ApiKey
from ledger.service.application import DEFAULT_KEY_PEPPER
from riskpool.bootstrap import System
from riskpool.demo import build_demo, scheme_id_for
from riskpool.demo.cast import BANKS, GOVERNMENT, GUARANTOR, INSURER
from riskpool.settings import Settings

KEY_PEPPER_CHARS_MIN = 16
SWITCH_INTERVAL_SECONDS = 0.001
MAKE_A_PEPPER = """python -c 'import secrets; print(secrets.token_urlsafe(32))'"""


def operator() -> Actor:
    """The person at the terminal, recorded on the facts a CLI command causes."""
    return Actor(
        f"operator:{getpass.getuser()}", Role.FUND_MANAGER, request_id=f"cli:{uuid.uuid4().hex[:12]}"
    )


def demo_keys(system: System) -> list[tuple[str, str, str, str]]:
    """Fresh keys for every role of the demo scheme: (role, party, principal, token)."""
    wanted = [
        ("fund_manager", None, "fm-zhang"),
        ("fund_manager", None, "fm-li"),
        ("regulator", None, "pboc-hebi"),
    ]
    wanted += [("bank", bank, None) for bank in sorted(BANKS)] + [
        ("guarantor", GUARANTOR[0], None),
        ("insurer", INSURER[0], None),
    ]
    wanted += [("government", fund, None) for fund in GOVERNMENT]
    issued = []
    for role, party, principal in wanted:
        key = system.ledger.issue_key(
            operator(),
            role=role,
            party_id=party,
            name=f"demo {role} {party or principal}",
            principal_id=principal,
        )
        issued.append((role, party or "", key.principal_id, key.token))
    return issued


def key_pepper_problem(settings: Settings) -> str | None:
    """Why the server would keep API keys weakly (no pepper of its own), or None."""
    pepper = settings.key_pepper
    if not pepper or pepper == DEFAULT_KEY_PEPPER.decode():
        why = "RISKPOOL_KEY_PEPPER is not set"
    elif len(pepper) < KEY_PEPPER_CHARS_MIN:
        why = f"RISKPOOL_KEY_PEPPER is {len(pepper)} characters, fewer than {KEY_PEPPER_CHARS_MIN}"
    else:
        return None
    return (
        f"{why}: API keys would be hashed with a pepper everyone can read in the source code, so a "
        "copy of the event store would let anyone confirm a guessed key offline.\n"
        "Make one and keep it secret, beside the database:\n"
        f'    export RISKPOOL_KEY_PEPPER="$({MAKE_A_PEPPER})"\n'
        "Set it before creating keys (`riskpool keys create` hashes with it too): keys made under another "
        "pepper are refused.\n"
        "For a throw-away server only: `riskpool serve --demo`, or `riskpool serve --insecure-dev-pepper`."
    )


def refuse_weak_pepper(settings: Settings, *, allowed: bool) -> None:
    """`riskpool serve` refuses to start without a key pepper of its own, unless told it is a demo or a
    development server (then it warns, and serves)."""
    problem = key_pepper_problem(settings)
    if problem is None:
        return
    if not allowed:
        typer.echo(f"refused: {problem}", err=True)
        raise typer.Exit(code=1)
    typer.echo(f"warning: {problem.splitlines()[0]} (serving anyway: a demo or development server)", err=True)


def serve(system: System, console, *, host: str, port: int, demo: bool, runner: bool) -> None:
    import uvicorn

    from api import logs
    from api.app import create_app

    logs.configure()
    if demo:
        build_demo(system.ledger, 2018, force=False, advance=lambda n: None)
        console.print(f"Demo API keys for {scheme_id_for(2018)} (shown once): role, party, principal, key")
        for role, party, principal, token in demo_keys(system):
            console.print(
                f"{role:13s} {party or '-':20s} {principal:16s} {token}", soft_wrap=True, highlight=False
            )
    console.print(
        f"Serving riskpool-ledger on http://{host}:{port} (docs at /docs), "
        f"events in {system.settings.database_url}"
    )
    # Threads that run a long request (a 100,000-row tape, an as-of replay) hand the interpreter
    # back every millisecond rather than every five: other requests do not queue behind them
    # (/v1/health p99 during a tape import: 129 ms at 5 ms, 45 ms at 1 ms; BENCHMARKS.md).
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    app = create_app(system, follow=runner)
    collect_for_a_server()
    uvicorn.run(app, host=host, port=port, log_level="info")


# A request allocates a few thousand short-lived objects; at the default threshold (700) the
# collector runs every few requests and, every hundredth time, walks every live object (the cached
# aggregates included) while every request waits: that was half of the claims' p99 over HTTP
# (BENCHMARKS.md, 4). Young collections run less often, and what the process holds once started
# (modules, routes, the schemas) is frozen out of every collection.
GC_THRESHOLDS = (50_000, 20, 100)


def collect_for_a_server() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def follow(system: System, console) -> None:
    """Run the projection runner in this process until interrupted."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    system.runner.start()
    console.print(f"Following the log from position {system.runner.position}; Ctrl-C to stop.")
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    system.close()


def issued_keys(system: System) -> list[tuple[str, str, str, str, str]]:
    topics = [f"{cls.__module__}:{cls.__qualname__}" for cls in (ApiKey.Issued, ApiKey.Revoked)]
    keys: dict[str, list[str]] = {}
    start = 1
    while page := system.ledger.recorder.select_notifications(start=start, limit=500, topics=topics):
        for notification in page:
            event = system.ledger.mapper.to_domain_event(notification)
            if isinstance(event, ApiKey.Issued):
                keys[event.originator_id.hex] = [
                    event.key_id,
                    event.principal_id,
                    event.role,
                    event.party_id or "",
                    "active",
                ]
            else:
                keys[event.originator_id.hex][4] = f"revoked {event.business_date}"
        start = page[-1].id + 1
    return [tuple(k) for k in keys.values()]  # type: ignore[misc]
