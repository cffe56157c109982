"""Proves a webhook request came from Commerce.

Commerce signs ``base64(raw body)`` with RSA PKCS#1 v1.5 / SHA-256 (its docs say HMAC; its code signs with RSA)
and sends the base64 signature in ``x-adobe-commerce-webhook-signature``. The body must be verified as received:
re-serialised JSON would differ in escaping and break the signature.
"""

from __future__ import annotations

import base64
import binascii
import hmac

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from bridge.errors import SignatureError

SIGNATURE_HEADER = "x-adobe-commerce-webhook-signature"


def verify_signature(body: bytes, signature_b64: str | None, public_key: RSAPublicKey) -> None:
    """Raise SignatureError unless ``signature_b64`` is Commerce's signature of ``body``."""
    if not signature_b64:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    try:
        signature = base64.b64decode(signature_b64.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError(f"{SIGNATURE_HEADER} is not base64") from None
    try:
        public_key.verify(signature, base64.b64encode(body), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise SignatureError("signature does not match the body and the configured public key") from None


def verify_secret(presented: str | None, expected: str, header_name: str) -> None:
    """Raise SignatureError unless the shared-secret header matches, compared in constant time."""
    if not presented:
        raise SignatureError(f"missing {header_name} header")
    if not hmac.compare_digest(presented.encode("utf-8"), expected.encode("utf-8")):
        raise SignatureError(f"{header_name} does not match")
