"""``bridge jobs``, ``bridge feeds`` and ``bridge db``: what operators use from a shell, with only DATABASE_URL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pipeline_helpers import FAST_PIPELINE, drive
from tests.seeds import amazon_order


def bridge_cli(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The command as an operator runs it: nothing of this environment but PATH, from ``cwd``."""
    return subprocess.run(
        [sys.executable, "-m", "bridge.cli", *args],
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


@pytest.fixture
def rejected(start_bridge, bridge_env, commerce, amazon):
    """A bridge whose request 1 was rejected (Amazon put the order back on hold) and request 2 completed."""
    bridge = start_bridge(**FAST_PIPELINE)
    ctx = bridge.worker()
    amazon_id = amazon_order(commerce, amazon, 7)
    assert commerce.cancel(7) == (True, None)
    amazon.set_status(amazon_id, "PENDING")  # after the hook looked, before the feed
    drive(ctx, lambda: [r.state for r in bridge.cancel_requests()] == ["rejected"])
    amazon_order(commerce, amazon, 8)
    assert commerce.cancel(8) == (True, None)
    drive(ctx, lambda: [r.state for r in bridge.cancel_requests()] == ["rejected", "completed"])
    return bridge, ctx, amazon_id, {"DATABASE_URL": bridge_env["DATABASE_URL"]}


def test_list_newest_first_says_how_many_and_filters(rejected, tmp_path: Path):
    _, _, amazon_id, env = rejected
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    listing = bridge_cli(env, "jobs", "list", cwd=elsewhere)  # another directory, only DATABASE_URL
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert lines[1].split()[:2] == ["2", "completed"] and lines[2].split()[:2] == ["1", "rejected"]
    assert "showing 2 of 2, newest first" in listing.stdout
    assert "StatusChanged: PENDING" in listing.stdout
    cut = bridge_cli(env, "jobs", "list", "--limit", "1")
    assert "showing 1 of 2" in cut.stdout and "raise --limit" in cut.stdout
    for filters, ids in [
        (["--state", "REJECTED"], [1]),
        (["--order", "000000008"], [2]),
        (["--amazon-order", amazon_id], [1]),
        (["--store", "us", "--since", "1h"], [2, 1]),
        (["--store", "it"], []),
    ]:
        found = json.loads(bridge_cli(env, "jobs", "list", "--json", *filters).stdout)
        assert [r["id"] for r in found["requests"]] == ids, filters
    assert not list(elsewhere.iterdir())  # nothing created where the command ran


@pytest.mark.parametrize("filters", [["--state", "bogus"], ["--since", "yesterday-ish"]])
def test_a_filter_the_command_cannot_use_is_said_not_ignored(rejected, filters):
    result = bridge_cli(rejected[3], "jobs", "list", *filters)
    assert result.returncode == 2 and "bridge: --" in result.stderr and "Traceback" not in result.stderr


def test_an_error_is_one_prefixed_line_on_stderr_and_json_under_json(rejected):
    """stdout holds results only, so a tool piping it gets no error text for data; under --json the error is JSON too,
    and the exit status says it failed."""
    env = rejected[3]
    for command in (["jobs", "show", "999"], ["jobs", "retry", "999"], ["feeds", "show", "999"]):
        said = bridge_cli(env, *command)
        assert said.returncode == 1 and said.stdout == "", command
        assert said.stderr.startswith("bridge: no ") and len(said.stderr.splitlines()) == 1, command
    for command, error, status in [
        (["jobs", "show", "999"], "not_found", 1),
        (["feeds", "show", "999"], "not_found", 1),
        (["jobs", "list", "--state", "bogus"], "usage", 2),
        (["jobs", "list", "--limit", "-3"], "usage", 2),
        (["drift", "--store", "nope"], "usage", 2),
    ]:
        said = bridge_cli(env, *command, "--json")
        assert said.returncode == status and said.stdout == "", command
        answer = json.loads(said.stderr)
        assert answer["error"] == error and answer["message"] and "bridge:" not in answer["message"], command


def test_an_unknown_store_is_refused_with_the_known_ones(rejected, stores_file: Path):
    """A typo in --store would list nothing, which reads like an answer. Without a stores file the known stores are
    those the bridge's records name; with one, its stores too (a store nothing happened in yet lists nothing)."""
    env = rejected[3]
    for command in (["jobs", "list"], ["drift"]):
        refused = bridge_cli(env, *command, "--store", "nope")
        assert refused.returncode == 2 and refused.stdout == "", command
        assert refused.stderr.startswith("bridge: --store: unknown store 'nope'; known: "), command
        assert "us" in refused.stderr.strip().rsplit("known: ", 1)[1].split(", "), command
    with_file = {**env, "BRIDGE_STORES_FILE": str(stores_file)}
    refused = bridge_cli(with_file, "jobs", "list", "--store", "nope")
    assert refused.stderr.strip().endswith("known: de-import-off, it, us")
    quiet = bridge_cli(with_file, "jobs", "list", "--json", "--store", "de-import-off")
    assert quiet.returncode == 0 and json.loads(quiet.stdout)["requests"] == []


@pytest.mark.parametrize("limit", ["-3", "0", "ten"])
def test_limit_is_a_whole_number_of_one_or_more(tmp_path: Path, limit: str):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'bridge.sqlite'}"}
    for command in (["jobs", "list"], ["feeds", "list"]):
        refused = bridge_cli(env, *command, "--limit", limit)
        assert refused.returncode == 2 and refused.stdout == "", command
        assert refused.stderr == (
            f"bridge: {' '.join(command)}: argument --limit: must be a whole number of 1 or more, not '{limit}'; "
            f"'bridge {' '.join(command)} --help' says what it takes\n"
        )
    assert not (tmp_path / "bridge.sqlite").exists()  # refused before the database is opened


def test_show_is_readable_and_json_is_complete(rejected):
    env = rejected[3]
    shown = bridge_cli(env, "jobs", "show", "2").stdout
    assert "(" not in shown.split("amazon_item_ids")[1].splitlines()[0]  # a list, not a Python tuple
    assert "Z" in shown.split("updated_at")[1].splitlines()[0]  # a UTC time, not an epoch float
    data = json.loads(bridge_cli(env, "jobs", "show", "2", "--json").stdout)
    assert data["state"] == "completed" and data["updated_at"].endswith("Z")


def test_retry_starts_over_what_did_not_go_through_never_what_amazon_refused(rejected, commerce, amazon):
    bridge, ctx, _, env = rejected
    assert bridge_cli(env, "jobs", "retry", "99").returncode == 1
    refused = bridge_cli(env, "jobs", "retry", "1")  # Amazon showed the order Pending: the same cancel fails again
    assert refused.returncode == 1 and refused.stderr.startswith("bridge: request 1 is rejected")
    assert "Seller Central" in refused.stderr and refused.stdout == ""
    assert [r.state for r in bridge.cancel_requests()] == ["rejected", "completed"]
    amazon_order(commerce, amazon, 9)
    assert bridge.hook().post({"id": "9"}).json() == {"op": "success"}
    assert bridge.hook().post_after(9, canceled=False).json() == {"op": "success"}  # Commerce did not cancel
    commerce.orders[9]["state"] = commerce.orders[9]["status"] = "canceled"  # ... and canceled it later after all
    retried = bridge_cli(env, "jobs", "retry", "3")
    assert retried.returncode == 0 and "starts over with a fresh attempt budget" in retried.stdout
    assert [(r.state, r.attempts) for r in bridge.cancel_requests()][2] == ("awaiting_commerce", 0)
    drive(ctx, lambda: [r.state for r in bridge.cancel_requests()] == ["rejected", "completed", "completed"])
    again = bridge_cli(env, "jobs", "retry", "3")
    assert again.returncode == 1 and "is completed; only failed, not_canceled_in_commerce requests" in again.stderr


def test_feeds_list_and_show(rejected):
    env = rejected[3]
    listing = bridge_cli(env, "feeds", "list")
    assert listing.returncode == 0 and "showing 1 of 1" in listing.stdout and " done " in listing.stdout
    feed = json.loads(bridge_cli(env, "feeds", "list", "--json").stdout)["feeds"][0]
    shown = json.loads(bridge_cli(env, "feeds", "show", str(feed["id"]), "--json").stdout)
    assert shown["state"] == "done" and shown["requests"] == [2]


def test_db_current_version_and_help(rejected):
    env = rejected[3]
    current = bridge_cli(env, "db", "current")
    assert current.returncode == 0 and "up to date" in current.stdout
    assert bridge_cli(env, "--version").stdout.startswith("bridge ")
    helped = bridge_cli(env, "--help").stdout
    assert "``" not in helped and "jobs" in helped and "DATABASE_URL" in helped


@pytest.mark.parametrize(
    ("database_url", "says"),
    [
        ("sqlite:///{tmp}/missing/bridge.sqlite", "no database at"),
        ("postgresql://bridge@127.0.0.1:9/bridge", "cannot use the database at"),
    ],
)
def test_a_database_it_cannot_use_is_one_line_and_changes_nothing(tmp_path: Path, database_url: str, says: str):
    url = database_url.format(tmp=tmp_path)
    for command in (["jobs", "list"], ["db", "current"], ["drift"], ["feeds", "list"]):
        result = bridge_cli({"DATABASE_URL": url}, *command)
        assert result.returncode == 3 and says in result.stderr, command
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "missing").exists()


def test_db_upgrade_on_a_wrong_port_is_one_line():
    result = bridge_cli({"DATABASE_URL": "postgresql://bridge:hunter2@127.0.0.1:9/bridge"}, "db", "upgrade")
    assert result.returncode == 3 and "Traceback" not in result.stderr and "hunter2" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_unmigrated_database_gets_told_to_upgrade(tmp_path: Path):
    (tmp_path / "empty.sqlite").touch()
    result = bridge_cli({"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite'}"}, "jobs", "list")
    assert result.returncode == 3 and "run 'bridge db upgrade'" in result.stderr
