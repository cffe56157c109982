"""Commerce's webhook signature, checked against Adobe's scheme with the shared test vector and fresh keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key

from bridge.errors import SignatureError
from bridge.signature import sign, verify_secret, verify_signature
from bridge.standins.php_json import php_json_encode
from tests.conftest import SHARED

VECTOR = SHARED / "reference" / "commerce" / "signature-test-vector"
CASES = ["plugin_order_management_cancel_before", "observer_order_cancel_after_min"]


def _vector(name: str) -> tuple[bytes, str]:
    body = (VECTOR / f"{name}.body.json").read_bytes()
    signature = (VECTOR / f"{name}.x-adobe-commerce-webhook-signature.txt").read_text().strip()
    return body, signature


@pytest.fixture(scope="module")
def vector_public_key():
    return load_pem_public_key((VECTOR / "test_public_key.pem").read_bytes())


@pytest.mark.parametrize("name", CASES)
def test_the_reference_vector_verifies(name: str, vector_public_key) -> None:
    body, signature = _vector(name)
    verify_signature(body, signature, vector_public_key)


@pytest.mark.parametrize("name", CASES)
def test_signed_input_is_base64_of_the_raw_body(name: str) -> None:
    import base64

    body, _ = _vector(name)
    assert base64.b64encode(body).decode() == (VECTOR / f"{name}.signed_input.b64.txt").read_text().strip()


@pytest.mark.parametrize("name", CASES)
def test_changing_any_single_byte_breaks_it(name: str, vector_public_key) -> None:
    body, signature = _vector(name)
    for position in (0, len(body) // 2, len(body) - 1):
        tampered = bytearray(body)
        tampered[position] ^= 0x01
        with pytest.raises(SignatureError):
            verify_signature(bytes(tampered), signature, vector_public_key)


def test_reserialised_json_does_not_verify(vector_public_key) -> None:
    """Why the raw body matters: Python's own JSON of the same data differs from PHP's."""
    body, signature = _vector("observer_order_cancel_after_min")
    with pytest.raises(SignatureError):
        verify_signature(json.dumps(json.loads(body)).encode(), signature, vector_public_key)


def test_php_json_encode_reproduces_commerce_bytes() -> None:
    for name in CASES:
        body, _ = _vector(name)
        assert php_json_encode(json.loads(body)) == body


def test_our_signer_matches_the_vector_private_key() -> None:
    private_key = load_pem_private_key((VECTOR / "test_private_key.pem").read_bytes(), password=None)
    body, signature = _vector("plugin_order_management_cancel_before")
    assert sign(body, private_key) == signature  # PKCS#1 v1.5 is deterministic


@pytest.mark.parametrize("header", [None, "", "not base64!!", "AAAA"])
def test_missing_or_garbled_signature_is_refused(header, vector_public_key) -> None:
    body, _ = _vector("plugin_order_management_cancel_before")
    with pytest.raises(SignatureError):
        verify_signature(body, header, vector_public_key)


def test_signature_from_another_key_is_refused(vector_public_key) -> None:
    body, _ = _vector("plugin_order_management_cancel_before")
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(SignatureError):
        verify_signature(body, sign(body, other), vector_public_key)


def test_secret_header() -> None:
    verify_secret("right", "right", "X-Secret")
    for presented in (None, "", "wrong", "righ", "right "):
        with pytest.raises(SignatureError) as raised:
            verify_secret(presented, "right", "X-Secret")
        assert "right" not in str(raised.value).replace("X-Secret", "")


def test_shared_reference_is_present() -> None:
    assert Path(VECTOR / "test_public_key.pem").exists(), "../shared/reference must sit beside the project"
