"""Commerce's webhook signature: Adobe's published test vector (when the reference is at hand) and fresh keys."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key

from bridge.errors import SignatureError
from bridge.web.signature import verify_secret, verify_signature
from standins.commerce_webhook import commerce_signature
from standins.php_json import php_json_encode
from tests.reference import reference

CASES = ["plugin_order_management_cancel_before", "observer_order_cancel_after_min"]
BODY = b'{"subject":[],"id":"42"}'


def _vector(name: str) -> tuple[bytes, str]:
    vector = reference("commerce", "signature-test-vector")
    body = (vector / f"{name}.body.json").read_bytes()
    signature = (vector / f"{name}.x-adobe-commerce-webhook-signature.txt").read_text().strip()
    return body, signature


@pytest.fixture(scope="module")
def vector_public_key():
    return load_pem_public_key(reference("commerce", "signature-test-vector", "test_public_key.pem").read_bytes())


@pytest.fixture(scope="module")
def key_pair():
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return private_key, private_key.public_key()


# --- Adobe's vector ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CASES)
def test_the_reference_vector_verifies(name: str, vector_public_key) -> None:
    body, signature = _vector(name)
    verify_signature(body, signature, [vector_public_key])


@pytest.mark.parametrize("name", CASES)
def test_signed_input_is_base64_of_the_raw_body(name: str) -> None:
    body, _ = _vector(name)
    signed_input = reference("commerce", "signature-test-vector", f"{name}.signed_input.b64.txt")
    assert base64.b64encode(body).decode() == signed_input.read_text().strip()


@pytest.mark.parametrize("name", CASES)
def test_changing_any_single_byte_breaks_it(name: str, vector_public_key) -> None:
    body, signature = _vector(name)
    for position in (0, len(body) // 2, len(body) - 1):
        tampered = bytearray(body)
        tampered[position] ^= 0x01
        with pytest.raises(SignatureError):
            verify_signature(bytes(tampered), signature, [vector_public_key])


def test_reserialised_json_does_not_verify(vector_public_key) -> None:
    """Why the raw body matters: Python's own JSON of the same data differs from PHP's."""
    body, signature = _vector("observer_order_cancel_after_min")
    with pytest.raises(SignatureError):
        verify_signature(json.dumps(json.loads(body)).encode(), signature, [vector_public_key])


def test_the_standin_encodes_and_signs_as_commerce_does() -> None:
    """The tests' Commerce stand-in reproduces Adobe's vector byte for byte (PKCS#1 v1.5 is deterministic)."""
    private_key = load_pem_private_key(
        reference("commerce", "signature-test-vector", "test_private_key.pem").read_bytes(), password=None
    )
    for name in CASES:
        body, signature = _vector(name)
        assert php_json_encode(json.loads(body)) == body
        assert commerce_signature(body, private_key) == signature  # type: ignore[arg-type]


# --- fresh keys ---------------------------------------------------------------------------------------------------


def test_a_fresh_signature_verifies_and_a_changed_body_does_not(key_pair) -> None:
    private_key, public_key = key_pair
    signature = commerce_signature(BODY, private_key)
    verify_signature(BODY, signature, [public_key])
    with pytest.raises(SignatureError):
        verify_signature(BODY.replace(b"42", b"43"), signature, [public_key])


@pytest.mark.parametrize("header", [None, "", "not base64!!", "AAAA"])
def test_missing_or_garbled_signature_is_refused(header, key_pair) -> None:
    with pytest.raises(SignatureError):
        verify_signature(BODY, header, [key_pair[1]])


def test_signature_from_another_key_is_refused(key_pair) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(SignatureError):
        verify_signature(BODY, commerce_signature(BODY, other), [key_pair[1]])


def test_secret_header() -> None:
    verify_secret("right", ["right"], "X-Secret")
    for presented in (None, "", "wrong", "righ", "right "):
        with pytest.raises(SignatureError) as raised:
            verify_secret(presented, ["right"], "X-Secret")
        assert "right" not in str(raised.value).replace("X-Secret", "")


def test_any_of_several_keys_and_secrets_verifies_so_they_rotate_without_downtime(key_pair) -> None:
    old_key, old_public = key_pair
    new_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    both = [old_public, new_key.public_key()]
    verify_signature(BODY, commerce_signature(BODY, old_key), both)
    verify_signature(BODY, commerce_signature(BODY, new_key), both)
    with pytest.raises(SignatureError):
        verify_signature(BODY, commerce_signature(BODY, new_key), [old_public])
    verify_secret("next", ["current", "next"], "X-Secret")
