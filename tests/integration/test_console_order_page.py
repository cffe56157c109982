"""The order page through Flask's test client: it follows a cancel under way (reloading itself, without JavaScript)
and stops once the cancel is over, says why there is no *Cancel order*, and says the bridge's codes in words."""

from __future__ import annotations

import re

import pytest

from bridge.deadline import Deadline
from bridge.domain.states import RequestState, Source
from bridge.services.cancel_intake import OrderRef
from tests.conftest import RunningBridge
from tests.pipeline_helpers import drive
from tests.seeds import amazon_order

PASSWORD = "correct horse battery staple"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
REFRESH = re.compile(r'<meta http-equiv="refresh" content="(\d+)">')


@pytest.fixture
def bridge(start_bridge) -> RunningBridge:
    running = start_bridge()
    running.parts.accounts.create_user("olivia", PASSWORD, "operator", "en_US")
    running.parts.accounts.create_user("giulia", PASSWORD, "operator", "it_IT")
    return running


def signed_in(bridge: RunningBridge, name: str):
    client = bridge.app.test_client()
    token = CSRF.search(client.get("/console/sign-in").get_data(as_text=True)).group(1)
    client.post("/console/sign-in", data={"csrf_token": token, "name": name, "password": PASSWORD, "next": ""})
    return client


def test_the_page_reloads_itself_while_the_cancel_is_under_way_and_not_after(bridge, commerce, amazon):
    order = amazon_order(commerce, amazon, 20)
    ctx = bridge.worker()
    drive(ctx, lambda: bridge.records.mirror.find(order) is not None and bridge.records.links.find(20) is not None)
    olivia = signed_in(bridge, "olivia")
    before = olivia.get(f"/console/orders/{order}").get_data(as_text=True)
    assert not REFRESH.search(before) and 'id="cancel-order"' in before

    answer = bridge.parts.intake.cancel_at_bridge(OrderRef(amazon_order_id=order), None, Source.API, "robot",
                                                  Deadline(5))  # fmt: skip
    assert answer.request is not None
    under_way = olivia.get(f"/console/orders/{order}").get_data(as_text=True)
    assert REFRESH.search(under_way).group(1) == "5"
    assert "/cancel" not in under_way  # no way to the cancel form while one is under way
    assert f"A cancel of Amazon order {order} is already “Checking the order at Amazon”" in under_way

    [held] = bridge.parts.cancel_requests.claim("test", {RequestState.PENDING}, 1e12, 60, 1)
    bridge.parts.cancel_requests.move(held, "test", RequestState.FAILED, last_error="feed 50001 ended FATAL")
    giulia = signed_in(bridge, "giulia").get(f"/console/orders/{order}").get_data(as_text=True)
    assert not REFRESH.search(giulia)  # final: the page keeps still
    assert "il feed 50001 è terminato con lo stato “Amazon non ha potuto elaborarlo”" in giulia
    assert 'id="cancel-order"' in giulia  # failed: the order may be canceled again
    assert "In lavorazione" in giulia and "processing" not in giulia.split("<main>")[1]
