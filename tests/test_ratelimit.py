"""Pacing API Particulier calls: never a 429 in normal use, most of the budget used (issue 5 item 4)."""

from __future__ import annotations

import pytest

from tarifrules.api_particulier.client import ApiParticulier, Identity
from tarifrules.api_particulier.connect import FAKE_RECIPIENT, mock_transport
from tarifrules.api_particulier.fake import QF_PATH, FakeApiParticulier
from tarifrules.api_particulier.ratelimit import MARGIN, RateLimiter

CAMILLE = Identity(nom_naissance="LAVANDIER", prenoms=("CAMILLE",), sexe="F", annee_naissance=1988,
                   mois_naissance=4, jour_naissance=17, code_commune_naissance="24037")


class VirtualTime:
    """One clock for the client and the fake server; sleeping advances it."""

    def __init__(self, start: float = 1_800_000_000.3):
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_slots_are_evenly_spaced() -> None:
    time = VirtualTime()
    limiter = RateLimiter(20, clock=time, wall=time)
    waits = [limiter.reserve() for _ in range(5)]
    step = 1 / (20 * MARGIN)
    assert waits == pytest.approx([0, step, 2 * step, 3 * step, 4 * step])


def test_idle_time_is_not_saved_up_as_a_burst() -> None:
    time = VirtualTime()
    limiter = RateLimiter(20, clock=time, wall=time)
    limiter.reserve()
    time.now += 10
    assert limiter.reserve() == 0
    assert limiter.reserve() == pytest.approx(1 / (20 * MARGIN))


def test_spent_window_waits_for_the_reset() -> None:
    time = VirtualTime()
    limiter = RateLimiter(20, clock=time, wall=time)
    limiter.observe({"RateLimit-Limit": "20", "RateLimit-Remaining": "0", "RateLimit-Reset": str(time.now + 0.7)})
    assert limiter.reserve() == pytest.approx(0.7)


def test_server_limit_lowers_the_pace_and_bad_headers_are_ignored() -> None:
    time = VirtualTime()
    limiter = RateLimiter(20, clock=time, wall=time)
    limiter.observe({"RateLimit-Limit": "abc", "RateLimit-Remaining": "", "RateLimit-Reset": "x"})
    assert limiter.rate == 20
    limiter.observe({"RateLimit-Limit": "5", "RateLimit-Remaining": "4", "RateLimit-Reset": str(time.now + 1)})
    assert limiter.rate == 5 and limiter.reserve() == 0 and limiter.reserve() == pytest.approx(1 / (5 * MARGIN))


def test_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positif"):
        RateLimiter(0)


@pytest.mark.parametrize("start", [1_800_000_000.0, 1_800_000_000.3, 1_800_000_000.999])
def test_many_calls_against_the_fake_server_never_get_429_and_use_the_budget(start: float) -> None:
    time = VirtualTime(start)
    fake = FakeApiParticulier(clock=time)
    client = ApiParticulier(token=fake.issue_token(), recipient=FAKE_RECIPIENT, base_url="local",
                            transport=mock_transport(fake), sleep=time.sleep,
                            rate_limit=RateLimiter(20, clock=time, wall=time))
    begin = time.now
    results = [client.get(QF_PATH, CAMILLE) for _ in range(300)]
    elapsed = time.now - begin
    assert all(r.status == "ok" for r in results)
    assert all(r.http_status == 200 for r in results)  # no 429 was ever answered, even retried
    achieved = 300 / elapsed
    assert achieved >= 0.95 * 20, achieved
    assert achieved <= 20


def test_two_clients_sharing_a_token_share_the_limiter() -> None:
    time = VirtualTime()
    fake = FakeApiParticulier(clock=time)
    token = fake.issue_token()
    limiter = RateLimiter(20, clock=time, wall=time)
    clients = [ApiParticulier(token=token, recipient=FAKE_RECIPIENT, base_url="local", transport=mock_transport(fake),
                              sleep=time.sleep, rate_limit=limiter) for _ in range(2)]
    statuses = [clients[i % 2].get(QF_PATH, CAMILLE).http_status for i in range(100)]
    assert set(statuses) == {200}


def test_without_pacing_the_fake_server_does_answer_429() -> None:
    """The counter-test: the fake server really limits, so the tests above are not vacuous."""
    time = VirtualTime()
    fake = FakeApiParticulier(clock=time)
    token = fake.issue_token()
    statuses = [fake.handle("GET", QF_PATH, {}, {"Authorization": f"Bearer {token}"})[0] for _ in range(25)]
    assert statuses.count(429) == 5
