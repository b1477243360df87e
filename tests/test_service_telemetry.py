"""FastAPI's own OpenTelemetry stays off in the service: where a tracer provider is configured,
its spans would carry query strings and exception messages, that is values of a situation."""

from __future__ import annotations

from typing import Any

import pytest

from .helpers import EXAMPLES

fastapi_testclient = pytest.importorskip("fastapi.testclient")
trace = pytest.importorskip("opentelemetry.trace")

from tarifrules.service.app import create_app  # noqa: E402


def test_no_span_is_asked_for_even_with_a_tracer_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[Any] = []

    class Recording(trace.TracerProvider):  # type: ignore[misc]
        def get_tracer(self, *args: Any, **kwargs: Any) -> Any:
            asked.append(args)
            return trace.NoOpTracer()

    monkeypatch.setattr(trace, "get_tracer_provider", Recording)
    with fastapi_testclient.TestClient(create_app(EXAMPLES)) as client:
        answer = client.post("/evaluer", json={"file": "restauration-scolaire", "date": "15/09/2025",
                                               "situation": {"quotient_familial": 987654}})
        assert answer.status_code == 200
        assert client.get("/portees", params={"fichier": "valeur-secrete"}).status_code == 404
    assert asked == []
