"""Amazon's cancel reasons and the rule that picks one for a cancel request."""

from __future__ import annotations

from enum import StrEnum


class CancelReason(StrEnum):
    """The only ``CancelReason`` values OrderAcknowledgement.xsd accepts."""

    NO_INVENTORY = "NoInventory"
    SHIPPING_ADDRESS_UNDELIVERABLE = "ShippingAddressUndeliverable"
    CUSTOMER_EXCHANGE = "CustomerExchange"
    BUYER_CANCELED = "BuyerCanceled"
    GENERAL_ADJUSTMENT = "GeneralAdjustment"
    CARRIER_CREDIT_DECISION = "CarrierCreditDecision"
    RISK_ASSESSMENT_INFORMATION_NOT_VALID = "RiskAssessmentInformationNotValid"
    CARRIER_COVERAGE_FAILURE = "CarrierCoverageFailure"
    CUSTOMER_RETURN = "CustomerReturn"
    MERCHANDISE_NOT_RECEIVED = "MerchandiseNotReceived"


# What each reason says to Amazon, in plain words (the API's document and the console describe them with these).
# For every reason but NoInventory, Amazon puts the canceled units back in stock.
MEANINGS: dict[CancelReason, str] = {
    CancelReason.NO_INVENTORY: "Out of stock: you cannot ship it. The canceled units are not put back in stock.",
    CancelReason.SHIPPING_ADDRESS_UNDELIVERABLE: "The shipping address cannot be delivered to.",
    CancelReason.CUSTOMER_EXCHANGE: "The buyer is exchanging the order for another item.",
    CancelReason.BUYER_CANCELED: (
        "The buyer asked Amazon to cancel. Only for an order whose buyer asked: it does not count toward your "
        "Cancellation Rate."
    ),
    CancelReason.GENERAL_ADJUSTMENT: "A general adjustment by the seller, such as a pricing error.",
    CancelReason.CARRIER_CREDIT_DECISION: "The carrier refused credit for the shipment.",
    CancelReason.RISK_ASSESSMENT_INFORMATION_NOT_VALID: "The order failed your risk or fraud assessment.",
    CancelReason.CARRIER_COVERAGE_FAILURE: "No carrier you use delivers to the address.",
    CancelReason.CUSTOMER_RETURN: "The buyer is returning the items.",
    CancelReason.MERCHANDISE_NOT_RECEIVED: "The merchandise was not received (by you, or by the buyer).",
}


def allowed_reasons(buyer_requested_cancel: bool) -> tuple[CancelReason, ...]:
    """The reasons a cancel of an order may carry: ``BuyerCanceled`` only where Amazon shows the buyer asked, since
    a seller's own cancel reported as the buyer's would misreport the seller's Cancellation Rate."""
    return tuple(
        reason for reason in CancelReason if buyer_requested_cancel or reason is not CancelReason.BUYER_CANCELED
    )


def choose_reason(buyer_requested_cancel: bool, store_default: CancelReason) -> CancelReason:
    """``BuyerCanceled`` when the buyer asked through Amazon, else the store's default.

    The distinction matters to the merchant: buyer-requested cancels do not count toward the seller's
    Cancellation Rate, seller-initiated ones do.
    """
    return CancelReason.BUYER_CANCELED if buyer_requested_cancel else store_default
