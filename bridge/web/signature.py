"""Proves a webhook request came from Commerce.

Commerce signs ``base64(raw body)`` with RSA PKCS#1 v1.5 / SHA-256 (its docs say HMAC; its code signs with RSA)
and sends the base64 signature in ``x-adobe-commerce-webhook-signature``. The body must be verified as received:
re-serialised JSON would differ in escaping and break the signature.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Sequence

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from bridge.errors import SignatureError

SIGNATURE_HEADER = "x-adobe-commerce-webhook-signature"


def verify_signature(body: bytes, signature_b64: str | None, public_keys: Sequence[RSAPublicKey]) -> None:
    """Raise SignatureError unless ``signature_b64`` is Commerce's signature of ``body`` under one of the keys."""
    if not signature_b64:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    try:
        signature = base64.b64decode(signature_b64.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError(f"{SIGNATURE_HEADER} is not base64") from None
    signed = base64.b64encode(body)
    for public_key in public_keys:
        try:
            public_key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            continue
        return
    raise SignatureError("signature does not match the body and any configured public key")


def verify_secret(presented: str | None, expected: Sequence[str], header_name: str) -> None:
    """Raise SignatureError unless the shared-secret header matches one of the secrets, compared in constant time."""
    if not presented:
        raise SignatureError(f"missing {header_name} header")
    matches = [hmac.compare_digest(presented.encode("utf-8"), secret.encode("utf-8")) for secret in expected]
    if not any(matches):  # every secret compared, whichever matched: the time says nothing of which
        raise SignatureError(f"{header_name} does not match")
