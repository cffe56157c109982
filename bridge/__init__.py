"""The bridge between Adobe Commerce order cancels and Amazon Seller Central."""

from bridge.app import create_app

__all__ = ["create_app"]
