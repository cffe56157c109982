"""Acceptance: never cancel at Amazon what Commerce did not cancel, with the Procfile's web and worker processes.

Three ways a ``before`` answer of "go on" is not a cancel: Commerce gave up waiting for it, Commerce's own
``canCancel()`` refused, or the request was a replay that no admin sent. Each ends with no Amazon cancel, the Commerce
order untouched and the request saying why; the normal journey still ends Complete.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from standins.commerce_webhook import CommerceWebhook
from standins.faults import Latency
from standins.procfile import ProcfileProcess, WebProcess, run_release
from tests.pipeline_helpers import FAST_PIPELINE, eventually
from tests.seeds import amazon_order

WINDOW = {"BRIDGE_COMMERCE_CONFIRM_SECONDS": "0.2", "BRIDGE_COMMERCE_CANCEL_WINDOW_SECONDS": "3"}


class Deployed:
    def __init__(self, env: dict[str, str], web: WebProcess, private_key) -> None:
        self.env, self.web, self.private_key = env, web, private_key

    def hook(self, timeout: float = 5.0) -> CommerceWebhook:
        """Commerce's two hooks, with Commerce's own wait for an answer (the hook's ``timeout``)."""
        return CommerceWebhook(
            f"{self.web.url}/webhooks/commerce/order-cancel",
            after_url=f"{self.web.url}/webhooks/commerce/order-cancel-after",
            private_key=self.private_key,
            timeout=timeout,
        )

    def request_state(self, entity_id: int) -> tuple[str, str | None] | None:
        engine = create_engine(self.env["DATABASE_URL"])
        try:
            with engine.connect() as connection:
                row = connection.execute(
                    text("SELECT state, last_error FROM cancel_requests WHERE commerce_entity_id = :id"),
                    {"id": entity_id},
                ).first()
        finally:
            engine.dispose()
        return (row.state, row.last_error) if row else None


@pytest.fixture
def deployed(bridge_env, private_key, commerce, tmp_path: Path) -> Iterator[Callable[..., Deployed]]:
    processes: list[ProcfileProcess] = []

    def start(**overrides: str) -> Deployed:
        env = {**bridge_env, **FAST_PIPELINE, **WINDOW, **overrides}
        run_release(env)
        web = WebProcess(env, tmp_path / "web.log").wait_until_ready()
        processes.append(web)
        processes.append(ProcfileProcess("worker", env, tmp_path / "worker.log"))
        bridge = Deployed(env, web, private_key)
        commerce.cancel_hook = bridge.hook()
        return bridge

    yield start
    for process in processes:
        process.stop()


def assert_untouched(commerce, amazon, entity_id: int, amazon_id: str, state: str = "processing") -> None:
    assert amazon.cancel_messages[amazon_id] == 0 and amazon.calls["createFeed"] == 0
    order = commerce.orders[entity_id]
    assert (order["state"], order["status_histories"]) == (state, [])


def test_an_answer_commerce_gave_up_on_cancels_nothing(deployed, commerce, amazon):
    """Commerce's REST is slow (1.6 s a call) and the hook's timeout is 1 s: the bridge's "go on" comes too late."""
    bridge = deployed()
    amazon_id = amazon_order(commerce, amazon, 1)
    commerce.latency = Latency(1.6)
    commerce.cancel_hook = bridge.hook(timeout=1.0)
    canceled, message = commerce.cancel(1)
    assert not canceled and message == commerce.cancel_hook.fallback_error_message
    assert eventually(lambda: (bridge.request_state(1) or ("",))[0] == "not_canceled_in_commerce", 60)
    assert "still reads processing" in bridge.request_state(1)[1]
    assert_untouched(commerce, amazon, 1, amazon_id)


def test_an_order_commerce_refuses_to_cancel_is_not_canceled_at_amazon(deployed, commerce, amazon):
    bridge = deployed()
    amazon_id = amazon_order(commerce, amazon, 2)
    commerce.orders[2]["state"] = commerce.orders[2]["status"] = "holded"
    assert commerce.cancel(2) == (False, "You have not canceled the item.")
    assert eventually(lambda: (bridge.request_state(2) or ("",))[0] == "not_canceled_in_commerce", 30)
    assert_untouched(commerce, amazon, 2, amazon_id, state="holded")


def test_a_replayed_signed_request_cancels_nothing(deployed, commerce, amazon):
    """Refused while Pending, the same signed bytes are sent again once the order is Unshipped: no admin canceled."""
    bridge = deployed()
    amazon_id = amazon_order(commerce, amazon, 3, status="PENDING")
    captured = bridge.hook().post({"subject": [], "id": "3"})
    assert captured.json()["op"] == "exception"
    amazon.set_status(amazon_id, "UNSHIPPED")
    replay = bridge.hook().send(captured.url, captured.body, captured.headers)
    assert replay.json() == {"op": "success"}  # the bridge cannot tell a replay from Commerce: the after hook can
    assert eventually(lambda: (bridge.request_state(3) or ("",))[0] == "not_canceled_in_commerce", 30)
    assert_untouched(commerce, amazon, 3, amazon_id)


def test_the_normal_journey_still_ends_complete(deployed, commerce, amazon):
    bridge = deployed()
    amazon_id = amazon_order(commerce, amazon, 4)
    assert commerce.cancel(4) == (True, None)
    assert eventually(lambda: (bridge.request_state(4) or ("",))[0] == "completed", 60)
    assert amazon.cancel_messages[amazon_id] == 1
    assert (commerce.orders[4]["state"], commerce.orders[4]["status"]) == ("complete", "complete")
