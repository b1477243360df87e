#!/usr/bin/env python
"""Fetching from API Particulier for many households: rate, 429s, calls avoided.

    python benchmarks/fetch_bench.py                     # 1 000 households, writes benchmarks/RESULTS-fetch.md
    python benchmarks/fetch_bench.py --households 100 --rate 200 --no-write   # smoke (a few seconds)

The fake API Particulier runs as a real HTTP server on localhost (a thread of this
process, `make_server`) with a seeded synthetic population and its real limit of 20
requests per second and per token (fixed one-second windows, 429 beyond). One sync
`ApiParticulier` client (one token, so one rate limiter) fetches, for each household in
turn, what the cantine example needs (`fetch`: QF first, France Travail only when it can
change the tariff), then evaluates. Measured: calls made, the answers by HTTP status as
counted by the server (429 included, even those the client retried), the achieved request
rate against the budget, households whose QF was below 400 € and France Travail calls made
for them (must be 0), and mismatches between the fetched evaluation and an evaluation of
the same household's true data. Numbers are printed and written, never asserted; the exit
status is 1 when a 429 was answered, a QF < 400 € household called France Travail, or a
result differs.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import sys
import threading
import time
from pathlib import Path
from typing import Any

from tarifrules import load
from tarifrules.api_particulier.client import ApiParticulier
from tarifrules.api_particulier.fake import FT_PATH, QF_PATH, FakeApiParticulier, make_server
from tarifrules.api_particulier.fetch import Fetcher, fetch
from tarifrules.api_particulier.household import Household
from tarifrules.api_particulier.population import synthetic_population
from tarifrules.api_particulier.ratelimit import RateLimiter

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "RESULTS-fetch.md"
CANTINE = ROOT / "examples" / "deliberations" / "restauration-scolaire.tarif"
RECIPIENT = "13002526500013"
DAY = datetime.date.today()  # the population's registrations are all in the past by now


class CountingFake(FakeApiParticulier):
    """The fake server, counting the statuses it answers per route."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.answers: collections.Counter[tuple[str, int]] = collections.Counter()
        self._count_lock = threading.Lock()

    def handle(self, method: str, path: str, query: Any = None, headers: Any = None) -> Any:
        status, out, body = super().handle(method, path, query, headers)
        with self._count_lock:
            self.answers[(path.rstrip("/"), status)] += 1
        return status, out, body


def run(households: int, rate: float, seed: int) -> dict[str, Any]:
    ruleset = load(CANTINE)
    fetcher = Fetcher(ruleset)
    fake = CountingFake(population=households, seed=seed, rate_limit=int(rate))
    server = make_server("127.0.0.1", 0, fake)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    people = synthetic_population(households, seed)
    client = ApiParticulier(token=fake.issue_token(fetcher.scopes), recipient=RECIPIENT,
                            base_url=f"http://127.0.0.1:{server.server_address[1]}", rate_limit=RateLimiter(rate))
    low_qf = low_qf_ft_calls = unknown_qf = mismatches = ft_avoided = with_ft = 0
    results = collections.Counter[str]()
    start = time.perf_counter()
    try:
        for person in people:
            parts: dict[str, Any] = {"allocataire": person.client_identity}
            if person.france_travail:
                parts["identifiant_france_travail"] = person.france_travail
            result = fetch(fetcher, Household.parse(parts), DAY, client)
            ft_called = any(call.endpoint == FT_PATH for call in result.calls)
            with_ft += person.france_travail is not None
            ft_avoided += person.france_travail is not None and not ft_called
            evaluation = ruleset.evaluate(result.situation, date=DAY)
            results[evaluation.outputs["tarif_repas"].display()] += 1
            qf = result.situation.get("quotient_familial")
            if qf is None:
                unknown_qf += 1
            elif qf < 400:
                low_qf += 1
                low_qf_ft_calls += ft_called
            # what the household really is (all of its data): skipping calls must never change the tariff
            truth: dict[str, Any] = {}
            if person.quotient_familial is not None:
                truth["quotient_familial"] = person.quotient_familial
            if person.france_travail is not None:
                truth["demandeur_emploi"] = person.job_seeker
            if evaluation.outputs != ruleset.evaluate(truth, date=DAY).outputs:
                mismatches += 1
    finally:
        elapsed = time.perf_counter() - start
        client.close()
        server.shutdown()
        server.server_close()
    answered = sum(fake.answers.values())
    return {
        "households": households, "rate_limit": rate, "elapsed_s": elapsed, "requests": answered,
        "achieved_rate": answered / elapsed, "budget_share": answered / elapsed / rate,
        "answers": {f"{path} {status}": count for (path, status), count in sorted(fake.answers.items())},
        "http_429": sum(count for (_, status), count in fake.answers.items() if status == 429),
        "qf_calls": sum(count for (path, _), count in fake.answers.items() if path == QF_PATH),
        "ft_calls": sum(count for (path, _), count in fake.answers.items() if path == FT_PATH),
        "low_qf": low_qf, "low_qf_ft_calls": low_qf_ft_calls, "unknown_qf": unknown_qf,
        "mismatches": mismatches, "results": dict(results.most_common()), "with_ft": with_ft,
        "ft_avoided": ft_avoided,
    }


def report(m: dict[str, Any]) -> str:
    lines = [
        "# Fetching from API Particulier (fake server over HTTP)",
        "",
        f"Written by `benchmarks/fetch_bench.py` on {datetime.date.today():%d/%m/%Y}: the cantine example "
        f"(`{CANTINE.relative_to(ROOT)}`) for {m['households']} synthetic households, one token, limit "
        f"{m['rate_limit']:g} requests/s (fixed one-second windows, 429 beyond), sequential sync client.",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| households | {m['households']} |",
        f"| requests answered by the server | {m['requests']} |",
        f"| elapsed | {m['elapsed_s']:.1f} s |",
        f"| achieved rate | {m['achieved_rate']:.2f} requests/s |",
        f"| share of the budget used | {100 * m['budget_share']:.1f} % (target ≥ 95 %) |",
        f"| HTTP 429 answered | {m['http_429']} (target 0) |",
        f"| QF calls / France Travail calls | {m['qf_calls']} / {m['ft_calls']} |",
        f"| households with QF < 400 € / France Travail calls for them | {m['low_qf']} / {m['low_qf_ft_calls']} "
        "(target 0) |",
        f"| households whose QF stayed unknown (not found at the CAF) | {m['unknown_qf']} |",
        f"| households with a France Travail identifiant / not asked because it could not change the tariff | "
        f"{m['with_ft']} / {m['ft_avoided']} |",
        f"| tariffs differing from the household's true data (all of it) | {m['mismatches']} (target 0) |",
        "",
        "Answers by route and status: " + ", ".join(f"`{k}` × {v}" for k, v in m["answers"].items()) + ".",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--households", type=int, default=1000)
    ap.add_argument("--rate", type=float, default=20.0, help="requests/s per token, server and client (default 20)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--no-write", action="store_true", help=f"do not write {RESULTS.relative_to(ROOT)}")
    args = ap.parse_args(argv)
    m = run(args.households, args.rate, args.seed)
    text = report(m)
    print(text)
    if not args.no_write:
        RESULTS.write_text(text, encoding="utf-8")
    ok = m["http_429"] == 0 and m["low_qf_ft_calls"] == 0 and m["mismatches"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
