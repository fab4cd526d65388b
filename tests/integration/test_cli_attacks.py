"""Findings of the attack on the ledger that reach the command line: a key's name (finding 6) and a
server started without a key pepper (finding 11)."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from ledger.service import Ledger
from riskpool.cli import app
from riskpool.settings import Settings

runner = CliRunner()
PEPPER = "a-pepper-for-this-test-only-0123456789"


def events_in(database_url: str) -> int:
    ledger = Ledger(env=Settings(database_url=database_url).event_store_env())
    try:
        return ledger.recorder.max_notification_id() or 0
    finally:
        ledger.close()


@pytest.mark.parametrize(
    "name", ["nul\u0000byte", "Fictional\u202eoC", "\u200b\u200c\u200d\u2060", " =HYPERLINK(1)"]
)
def test_a_key_name_with_a_nul_a_bidi_override_only_zero_width_characters_or_a_formula_is_refused_by_the_cli(
    database_url: str, name: str
) -> None:
    """Findings 6 and 9: `riskpool keys create --name` meets the ledger's rule for free text, and
    records nothing when refused."""
    env = {"RISKPOOL_DATABASE_URL": database_url, "RISKPOOL_KEY_PEPPER": PEPPER, "COLUMNS": "200"}
    refused = runner.invoke(app, ["keys", "create", "--role", "regulator", "--name", name], env=env)
    assert refused.exit_code == 1, refused.output
    assert "invalid_request" in refused.output and "key name" in refused.output
    assert events_in(database_url) == 0
    made = runner.invoke(app, ["keys", "create", "--role", "regulator", "--name", "PBOC Hebi"], env=env)
    assert made.exit_code == 0 and "rpk_" in made.output, made.output


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """`riskpool serve` up to the point where it would start the server, which it records instead."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr("riskpool.cli.serve", lambda system, console, **options: calls.append(options))
    return calls


@pytest.mark.parametrize(
    "pepper",
    [None, "", "riskpool-ledger: set RISKPOOL_KEY_PEPPER in production", "short"],
    ids=["unset", "empty", "the built-in one", "too short"],
)
def test_the_server_refuses_to_start_without_a_key_pepper_of_its_own_and_says_how_to_make_one(
    served: list[dict[str, Any]], pepper: str | None
) -> None:
    """Finding 11: with RISKPOOL_KEY_PEPPER unset the pepper was a constant in the code, silently."""
    env = {"RISKPOOL_KEY_PEPPER": pepper, "RISKPOOL_DATABASE_URL": "memory://", "COLUMNS": "200"}
    refused = runner.invoke(app, ["serve"], env=env)
    assert refused.exit_code == 1 and served == [], refused.output
    assert "RISKPOOL_KEY_PEPPER" in refused.output
    assert "python -c 'import secrets; print(secrets.token_urlsafe(32))'" in refused.output
    assert "--insecure-dev-pepper" in refused.output and "--demo" in refused.output


def test_the_server_starts_with_a_pepper_or_when_told_it_is_a_demo_or_development_server(
    served: list[dict[str, Any]],
) -> None:
    """Finding 11: with a pepper it starts quietly; the development server (--insecure-dev-pepper)
    and the demo start without one, with a warning."""
    for pepper, flags, warned in [
        (PEPPER, [], False),
        (None, ["--insecure-dev-pepper"], True),
        (None, ["--demo"], True),
    ]:
        env = {"RISKPOOL_KEY_PEPPER": pepper, "RISKPOOL_DATABASE_URL": "memory://", "COLUMNS": "200"}
        served.clear()
        started = runner.invoke(app, ["serve", "--port", "8123", *flags], env=env)
        assert started.exit_code == 0, (flags, started.output)
        assert [call["port"] for call in served] == [8123]
        assert ("RISKPOOL_KEY_PEPPER is not set" in started.output) == warned, (flags, started.output)


def test_a_refusal_naming_what_looks_like_console_markup_is_printed_as_it_is(tmp_path: Any) -> None:
    """A refusal quotes what was sent; square brackets in it are not the console's markup (an
    unknown key id `abc[/x]` once made the refusal a traceback)."""
    env = {"RISKPOOL_DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.db'}", "RISKPOOL_KEY_PEPPER": PEPPER}
    refused = runner.invoke(
        app, ["keys", "revoke", "abc[/x]", "--reason", "r"], env={**env, "COLUMNS": "200"}
    )
    assert refused.exit_code == 1, refused.output
    assert "abc[/x]" in refused.output and "Traceback" not in refused.output, refused.output
