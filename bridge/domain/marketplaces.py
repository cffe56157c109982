"""Amazon's marketplaces: the names sellers know them by, and the time each one keeps.

Seller Central shows a marketplace's orders in that marketplace's own time (Amazon.com and Amazon.ca in Pacific time,
Amazon.it in Italy's), so the console does too, with the zone's abbreviation; one table, keyed by marketplace id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Marketplace:
    name: str  # as Seller Central lists it
    time_zone: str  # the IANA zone whose time Seller Central shows its orders in


MARKETPLACES: dict[str, Marketplace] = {
    "ATVPDKIKX0DER": Marketplace("Amazon.com", "America/Los_Angeles"),
    "A2EUQ1WTGCTBG2": Marketplace("Amazon.ca", "America/Los_Angeles"),
    "A1AM78C64UM0Y8": Marketplace("Amazon.com.mx", "America/Mexico_City"),
    "A2Q3Y263D00KWC": Marketplace("Amazon.com.br", "America/Sao_Paulo"),
    "A1F83G8C2ARO7P": Marketplace("Amazon.co.uk", "Europe/London"),
    "A28R8C7NBKEWEA": Marketplace("Amazon.ie", "Europe/Dublin"),
    "A1PA6795UKMFR9": Marketplace("Amazon.de", "Europe/Berlin"),
    "A13V1IB3VIYZZH": Marketplace("Amazon.fr", "Europe/Paris"),
    "APJ6JRA9NG5V4": Marketplace("Amazon.it", "Europe/Rome"),
    "A1RKKUPIHCS9HS": Marketplace("Amazon.es", "Europe/Madrid"),
    "A1805IZSGTT6HS": Marketplace("Amazon.nl", "Europe/Amsterdam"),
    "A2NODRKZP88ZB9": Marketplace("Amazon.se", "Europe/Stockholm"),
    "A1C3SOZRARQ6R3": Marketplace("Amazon.pl", "Europe/Warsaw"),
    "AMEN7PMS3EDWL": Marketplace("Amazon.com.be", "Europe/Brussels"),
    "A33AVAJ2PDY3EV": Marketplace("Amazon.com.tr", "Europe/Istanbul"),
    "ARBP9OOSHTCHU": Marketplace("Amazon.eg", "Africa/Cairo"),
    "AE08WJ6YKNBMC": Marketplace("Amazon.co.za", "Africa/Johannesburg"),
    "A21TJRUUN4KGV": Marketplace("Amazon.in", "Asia/Kolkata"),
    "A1VC38T7YXB528": Marketplace("Amazon.co.jp", "Asia/Tokyo"),
    "A39IBJ37TRP1C6": Marketplace("Amazon.com.au", "Australia/Sydney"),
    "A19VAU5U5O7RUS": Marketplace("Amazon.sg", "Asia/Singapore"),
    "A2VIGQ35RCS4UG": Marketplace("Amazon.ae", "Asia/Dubai"),
    "A17E79C6D8DWNP": Marketplace("Amazon.sa", "Asia/Riyadh"),
}


def marketplace_name(marketplace_id: str) -> str:
    """The name sellers know the marketplace by; its id where the table has none."""
    known = MARKETPLACES.get(marketplace_id)
    return known.name if known else marketplace_id


def time_zone(marketplace_id: str | None) -> tzinfo:
    """The zone the marketplace's times are read in; UTC for a marketplace the table does not know."""
    known = MARKETPLACES.get(marketplace_id or "")
    return ZoneInfo(known.time_zone) if known else UTC


def local_time(moment: datetime, marketplace_id: str | None) -> tuple[datetime, str]:
    """``moment`` in the marketplace's own time, and the zone's abbreviation then (``PDT``, ``CET``; ``UTC+03`` where
    the zone has only an offset, as Istanbul's has)."""
    local = moment.astimezone(time_zone(marketplace_id))
    abbreviation = local.tzname() or "UTC"
    if abbreviation[0] in "+-":
        abbreviation = f"UTC{abbreviation}"
    return local, abbreviation
