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


def choose_reason(buyer_requested_cancel: bool, store_default: CancelReason) -> CancelReason:
    """``BuyerCanceled`` when the buyer asked through Amazon, else the store's default.

    The distinction matters to the merchant: buyer-requested cancels do not count toward the seller's
    Cancellation Rate, seller-initiated ones do.
    """
    return CancelReason.BUYER_CANCELED if buyer_requested_cancel else store_default
