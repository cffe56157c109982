"""Amazon orders whichever importer brought them into Commerce: Amazon Sales Channel's, M2E Pro's, or one the
settings describe. Real HTTP to the stand-ins (which show orders as Commerce's REST API does), the worker's steps."""

from __future__ import annotations

import pytest

from bridge.pipeline.steps.refresh_commerce_links import refresh_commerce_links
from tests.conftest import RunningBridge
from tests.pipeline_helpers import FAST_PIPELINE, drive
from tests.seeds import US_STORE, amazon_order, m2e_pro_order


@pytest.fixture
def bridge(start_bridge) -> RunningBridge:
    return start_bridge(**FAST_PIPELINE)


def test_an_m2e_pro_amazon_order_is_canceled_at_amazon_and_ends_complete(bridge, commerce, amazon):
    amazon_id = amazon_order(commerce, amazon, 60, importer="m2e_pro")
    assert commerce.orders[60]["payment"]["po_number"] is None  # M2E Pro keeps the id elsewhere
    assert commerce.cancel(60) == (True, None)  # the admin's Cancel: before hook, Commerce's cancel, after hook
    [request] = bridge.cancel_requests()
    assert (request.amazon_order_id, request.store_code) == (amazon_id, "us")
    drive(bridge.worker(), lambda: [r.state for r in bridge.cancel_requests()] == ["completed"])
    assert amazon.orders[amazon_id].status == "CANCELLED" and amazon.cancel_messages[amazon_id] == 1
    assert (commerce.orders[60]["state"], commerce.orders[60]["status"]) == ("complete", "complete")


@pytest.mark.parametrize(("channel", "channel_order_id"), [("ebay", "12-34567-89012"), ("walmart", "1234567890")])
def test_an_m2e_pro_order_from_another_channel_passes_untouched(bridge, commerce, amazon, channel, channel_order_id):
    m2e_pro_order(commerce, 61, US_STORE, channel, channel_order_id)
    assert commerce.cancel(61) == (True, None)
    assert bridge.cancel_requests() == []
    assert sum(amazon.calls.values()) == 0


def test_the_link_mirror_knows_m2e_pro_amazon_orders_too(bridge, commerce, amazon):
    """The console, the API and drift read the link mirror: an M2E Pro order is found by its Amazon order id."""
    amazon_id = amazon_order(commerce, amazon, 62, importer="m2e_pro")
    m2e_pro_order(commerce, 63, US_STORE, "ebay", "12-34567-89013")
    refresh_commerce_links(bridge.worker())
    links = bridge.records.links
    assert [link.commerce_entity_id for link in links.of_amazon_orders([amazon_id])[amazon_id]] == [62]
    assert links.find(63).amazon_order_id is None


def test_an_importer_the_settings_describe(start_bridge, commerce, amazon):
    """An importer that pays with its own method and numbers the order after the Amazon order id."""
    bridge = start_bridge(
        BRIDGE_AMAZON_PAYMENT_METHODS="channelengine", BRIDGE_AMAZON_ORDER_ID_FROM="increment_id:AMZ-"
    )
    amazon_id = amazon_order(commerce, amazon, 64)
    commerce.add_order(65, store_id=US_STORE, payment_method="channelengine", increment_id=f"AMZ-{amazon_id}")
    del commerce.orders[64]  # the same Amazon order, imported by the other tool this time
    assert bridge.hook().post({"id": "65"}).json() == {"op": "success"}
    [request] = bridge.cancel_requests()
    assert (request.commerce_entity_id, request.amazon_order_id) == (65, amazon_id)
