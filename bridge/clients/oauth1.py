"""OAuth 1.0a HMAC-SHA256 request signing for Commerce integrations.

Commerce only accepts an integration token as a plain Bearer where the store enabled that (off by default since
2.4.4); everywhere else each request must be signed with the integration's four credentials.
"""

from __future__ import annotations

from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, Client
from requests import PreparedRequest
from requests.auth import AuthBase


class OAuth1HmacSha256(AuthBase):
    def __init__(self, consumer_key: str, consumer_secret: str, token: str, token_secret: str) -> None:
        self._client = Client(
            consumer_key,
            client_secret=consumer_secret,
            resource_owner_key=token,
            resource_owner_secret=token_secret,
            signature_method=SIGNATURE_HMAC_SHA256,
        )

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        # JSON bodies are not form parameters and so are not part of the signature (RFC 5849 §3.4.1.3).
        _, headers, _ = self._client.sign(str(request.url), str(request.method), None, {})
        request.headers["Authorization"] = headers["Authorization"]
        return request


class BearerToken(AuthBase):
    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request
