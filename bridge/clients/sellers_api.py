"""Sellers API v1: the marketplaces a seller's authorization may sell in (what ``bridge doctor`` checks)."""

from __future__ import annotations

from dataclasses import dataclass

from marshmallow import fields

from bridge.clients.spapi import AmazonAnswer, SpApiClient, load_answer
from bridge.clients.spapi_operations import GET_MARKETPLACE_PARTICIPATIONS
from bridge.deadline import Deadline
from bridge.domain.stores import Store


class _MarketplaceSchema(AmazonAnswer):
    id = fields.String(required=True)
    name = fields.String(load_default="")


class _ParticipationSchema(AmazonAnswer):
    isParticipating = fields.Boolean(required=True)


class _MarketplaceParticipationSchema(AmazonAnswer):
    marketplace = fields.Nested(_MarketplaceSchema, required=True)
    participation = fields.Nested(_ParticipationSchema, required=True)


class _ResponseSchema(AmazonAnswer):
    payload = fields.List(fields.Nested(_MarketplaceParticipationSchema), required=True)


RESPONSE = _ResponseSchema()


@dataclass(frozen=True)
class Participation:
    marketplace_id: str
    marketplace_name: str
    participating: bool


class SellersApi:
    def __init__(self, client: SpApiClient) -> None:
        self._client = client

    def participations(self, store: Store, deadline: Deadline) -> list[Participation]:
        body = self._client.call(store, GET_MARKETPLACE_PARTICIPATIONS, deadline)
        data = load_answer(RESPONSE, body, "getMarketplaceParticipations")
        return [
            Participation(p["marketplace"]["id"], p["marketplace"]["name"], p["participation"]["isParticipating"])
            for p in data["payload"]
        ]
