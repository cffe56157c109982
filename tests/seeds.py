"""Orders seeded on both stand-ins, linked as Adobe's Amazon Sales Channel links them."""

from __future__ import annotations

from standins.amazon import AmazonStandIn, StandInOrder
from standins.commerce import CommerceStandIn, Integration

STORES_TOML = """
[[stores]]
code = "it"
commerce_store_ids = [1]
seller_id = "A1SELLERIT"
marketplace_id = "APJ6JRA9NG5V4"
region = "eu"
refresh_token_env = "SPAPI_REFRESH_TOKEN_IT"
order_import = true
default_cancel_reason = "NoInventory"
locale = "it_IT"

[[stores]]
code = "us"
commerce_store_ids = [2]
seller_id = "A2SELLERUS"
marketplace_id = "ATVPDKIKX0DER"
region = "na"
refresh_token_env = "SPAPI_REFRESH_TOKEN_US"
order_import = true
default_cancel_reason = "GeneralAdjustment"
locale = "en_US"

[[stores]]
code = "de-import-off"
commerce_store_ids = [3]
seller_id = "A3SELLERDE"
marketplace_id = "A1PA6795UKMFR9"
region = "eu"
refresh_token_env = "SPAPI_REFRESH_TOKEN_DE"
order_import = false
default_cancel_reason = "NoInventory"
locale = "en_US"
"""

REFRESH_TOKENS = {
    "SPAPI_REFRESH_TOKEN_IT": ("A1SELLERIT", "Atzr|refresh-it-secret"),
    "SPAPI_REFRESH_TOKEN_US": ("A2SELLERUS", "Atzr|refresh-us-secret"),
    "SPAPI_REFRESH_TOKEN_DE": ("A3SELLERDE", "Atzr|refresh-de-secret"),
}
INTEGRATION = Integration(
    access_token="commerce-access-token-secret",
    consumer_key="ck-standin",
    consumer_secret="cs-secret-value",
    access_token_secret="ats-secret-value",
)

IT_STORE, US_STORE, IMPORT_OFF_STORE, UNKNOWN_STORE = 1, 2, 3, 99
SELLERS = {IT_STORE: "A1SELLERIT", US_STORE: "A2SELLERUS", IMPORT_OFF_STORE: "A3SELLERDE"}
MARKETPLACES = {IT_STORE: "APJ6JRA9NG5V4", US_STORE: "ATVPDKIKX0DER", IMPORT_OFF_STORE: "A1PA6795UKMFR9"}


def amazon_order(
    commerce: CommerceStandIn,
    amazon: AmazonStandIn,
    entity_id: int,
    *,
    store_id: int = US_STORE,
    status: str = "UNSHIPPED",
    fulfilled_by: str = "MERCHANT",
    buyer_requested_cancel: bool = False,
    seller_id: str | None = None,
    importer: str = "amazon_sales_channel",
) -> str:
    """Seed one Amazon order on both sides; return its Amazon order id. ``importer``: how it reached Commerce,
    Amazon Sales Channel's way (payment ``amazonpayment``, the id in ``po_number``) or M2E Pro's (``m2e_pro``)."""
    amazon_order_id = f"{100 + store_id}-{entity_id:07d}-{entity_id * 7 % 10**7:07d}"
    seller = seller_id or SELLERS.get(store_id, SELLERS[US_STORE])
    if importer == "m2e_pro":
        m2e_pro_order(commerce, entity_id, store_id, "amazon", amazon_order_id)
    else:
        commerce.add_order(entity_id, store_id=store_id, payment_method="amazonpayment", po_number=amazon_order_id)
    amazon.add_order(
        StandInOrder(
            amazon_order_id,
            seller,
            MARKETPLACES.get(store_id, MARKETPLACES[US_STORE]),
            status=status,
            fulfilled_by=fulfilled_by,
            buyer_requested_cancel=buyer_requested_cancel,
        )
    )
    return amazon_order_id


def m2e_pro_order(
    commerce: CommerceStandIn, entity_id: int, store_id: int, channel: str, channel_order_id: str
) -> None:
    """An order M2E Pro imported from ``channel`` (amazon, ebay, walmart), paid as M2E Pro pays its orders."""
    commerce.add_order(
        entity_id, store_id=store_id, payment_method="m2epropayment",
        payment_info={"method": "m2epropayment", "component_mode": channel, "payment_method": "Standard",
                      "channel_order_id": channel_order_id, "channel_final_fee": "0", "cash_on_delivery_cost": "0",
                      "tax_id": ""},
    )  # fmt: skip
