"""Acceptance: the API document is the contract. Schemathesis, an outside OpenAPI fuzzer, reads
``/api/v1/openapi.json`` from a live bridge and throws generated requests at it over HTTP with a real token; every
answer must be one the document describes, in the shape it describes, under every default check."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bridge.services.sign_in import issue_api_token
from tests.conftest import RunningBridge
from tests.seeds import IT_STORE, amazon_order

ST = Path(sys.executable).parent / "st"
HOOKS = Path(__file__).with_name("api_contract_hooks.py")
MAX_EXAMPLES = 100  # per operation and phase: some 450 cases, a few seconds (well under a minute on two cores)
SEED = 16  # the same cases on every run: a failure found once is found again
RUN_TIMEOUT_SECONDS = 300


def test_every_answer_of_the_api_is_one_its_document_describes(
    bridge: RunningBridge, commerce, amazon, tmp_path: Path, record_property: Callable[[str, object], None]
):
    # Orders a valid cancel can name. 20 is the document's own example, by order number and by Amazon order id
    # alike: the examples phase cancels it, and later cases find its cancel under way. The others are refused for
    # their state, or take BuyerCanceled.
    amazon_order(commerce, amazon, 20)
    amazon_order(commerce, amazon, 21, buyer_requested_cancel=True)
    amazon_order(commerce, amazon, 22, status="SHIPPED")
    amazon_order(commerce, amazon, 23, store_id=IT_STORE)
    token = issue_api_token(bridge.parts.api_tokens, "schemathesis")
    command = [
        str(ST), "run", f"{bridge.url}/api/v1/openapi.json", "--url", bridge.url,
        "-H", f"Authorization: Bearer {token}",
        "--phases", "examples,coverage,fuzzing",
        "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED),
        # One worker: with two threads, Hypothesis's concurrent ast.parse trips a CPython 3.11 bug ("AST constructor
        # recursion depth mismatch"), an error of the run and not of the bridge; one is fast enough.
        "--workers", "1",
        "--generation-database", "none", "--no-color",
    ]  # fmt: skip
    started = time.monotonic()
    try:
        # cwd: whatever schemathesis leaves behind (reports, .hypothesis) stays in the test's own folder.
        run = subprocess.run(
            command,
            cwd=tmp_path,
            env={**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS)},
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired:  # its message would quote the command, token and all
        raise AssertionError(f"schemathesis did not finish within {RUN_TIMEOUT_SECONDS} s") from None
    elapsed = time.monotonic() - started
    output = run.stdout + run.stderr
    leaked = token in output
    output = output.replace(token, "<token>")  # the token is a secret: never in the test's own output
    exit_code, generated = run.returncode, _generated_cases(output)
    record_property("schemathesis_cases", generated)
    print(f"schemathesis: {generated} cases generated in {elapsed:.1f} s, exit code {exit_code}")
    assert exit_code == 0, output
    assert not leaked, "schemathesis printed the API token"
    assert generated > 0, output


def _generated_cases(output: str) -> int:
    """The number schemathesis's summary gives ("Test cases: N generated, ...")."""
    found = re.search(r"Test cases:\s*(\d+) generated", output)
    return int(found.group(1)) if found else 0
