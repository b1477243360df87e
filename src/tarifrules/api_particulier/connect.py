"""Which API Particulier to talk to: the real one when a token is configured, else the
built-in fake server (in process, no socket), issued a token for exactly the scopes needed.

The CLI says which one it uses (`Connection.note`); nothing here prints.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qs

import httpx

from ..dgfip.client import CLIENT_ID_ENV, ImpotParticulier
from ..dgfip.fake import FakeImpotParticulier
from .client import RECIPIENT_ENV, TOKEN_ENV, ApiParticulier
from .fake import FakeApiParticulier

__all__ = ["FAKE_RECIPIENT", "Connection", "connect", "connect_dgfip", "dgfip_transport", "mock_transport"]

FAKE_RECIPIENT = "13002526500013"  # the SIRET of the DINUM, accepted by the fake server only when none is given


@dataclass(frozen=True)
class Connection:
    client: ApiParticulier
    fake: bool
    note: str | None  # what to tell the user about where the data come from


def mock_transport(fake: FakeApiParticulier) -> httpx.MockTransport:
    """An httpx transport answering every request with the fake server, in process."""

    def handler(request: httpx.Request) -> httpx.Response:
        query = parse_qs(request.url.query.decode(), keep_blank_values=True)
        status, headers, body = fake.handle(request.method, request.url.path, query, dict(request.headers))
        return httpx.Response(status, headers=headers, content=body)

    return httpx.MockTransport(handler)


def dgfip_transport(fake: FakeImpotParticulier) -> httpx.MockTransport:
    """An httpx transport answering with the fake API Impôt particulier, in process."""

    def handler(request: httpx.Request) -> httpx.Response:
        query = parse_qs(request.url.query.decode(), keep_blank_values=True)
        status, headers, body = fake.handle(request.method, request.url.path, query, dict(request.headers),
                                            request.read())
        return httpx.Response(status, headers=headers, content=body)

    return httpx.MockTransport(handler)


def connect_dgfip() -> tuple[ImpotParticulier, str | None]:
    """The API Impôt particulier client, and the note to show: the real one when its
    identifiers are configured (`DGFIP_CLIENT_ID`…), else the built-in fake (invented foyers)."""
    if os.environ.get(CLIENT_ID_ENV):
        return ImpotParticulier(), None
    fake = FakeImpotParticulier()
    client_id, secret = fake.issue_client()
    client = ImpotParticulier(client_id, secret, "fake-teleservice", "local", transport=dgfip_transport(fake))
    return client, (f"aucun identifiant API Impôt particulier configuré ({CLIENT_ID_ENV}) : données fiscales "
                    "lues sur le faux serveur DGFiP intégré (foyers fictifs)")


def connect(scopes: Iterable[str], *, recipient: str | None = None, environment: str | None = None,
            token: str | None = None) -> Connection:
    """The client to fetch with. Without a token (argument or `API_PARTICULIER_TOKEN`) and
    without an explicit environment, the built-in fake server answers, with fictitious households."""
    token = token or os.environ.get(TOKEN_ENV)
    if token or environment is not None:
        return Connection(ApiParticulier(token=token, recipient=recipient, base_url=environment or "production"),
                          False, None)
    fake = FakeApiParticulier()
    client = ApiParticulier(token=fake.issue_token(scopes),
                            recipient=recipient or os.environ.get(RECIPIENT_ENV) or FAKE_RECIPIENT,
                            base_url="local", transport=mock_transport(fake))
    note = (f"aucun jeton API Particulier configuré ({TOKEN_ENV}) : données lues sur le faux serveur "
            "API Particulier intégré (foyers fictifs)")
    return Connection(client, True, note)
