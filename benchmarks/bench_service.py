#!/usr/bin/env python
"""Load test of the HTTP service: one-household `POST /evaluer` requests under concurrency.

    python benchmarks/bench_service.py                    # writes benchmarks/RESULTS-service.md
    python benchmarks/bench_service.py --duration 3 --no-write   # a quick look

Starts `tarifrules serve examples/deliberations` (uvicorn, access log on, as in production)
on a free localhost port, checks that the service answers what the Python API computes,
then drives it for a bounded time with `wrk` (Debian package `wrk`) when installed, or
else with an asyncio/httpx load generator in a separate process. Each request is one
household of the cantine file, taken in turn from a fixed list (every bracket, job seekers
or not, unknown data). Reported per scenario (number of server processes × open
connections): requests/s, p50, p90 and p99 latency, non-2xx, 5xx and socket error counts,
the load average before, and the CPU that other programs took during the measurement;
then which scenarios meet the target of issue 7. Timings are never asserted by a test; the
exit status is 1 when any request got a 5xx.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import multiprocessing
import os
import platform
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "examples" / "deliberations"
RESULTS = ROOT / "benchmarks" / "RESULTS-service.md"
TARGET_RPS, TARGET_P99_MS = 1000, 20.0
DATE = "15/09/2025"
HOUSEHOLDS = [
    {"quotient_familial": qf, "demandeur_emploi": job}
    for qf in (0, 399, 400, 650, 699, 700, 999, 1000, 1299, 1300, 1699, 1700, 3000)
    for job in ("oui", "non")
] + [{"quotient_familial": 650}, {"demandeur_emploi": "oui"}, {}]


def bodies() -> list[str]:
    return [json.dumps({"file": "restauration-scolaire", "situation": s, "date": DATE}) for s in HOUSEHOLDS]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Server:
    """`tarifrules serve` in a child process; its log goes to a file."""

    def __init__(self, processes: int, log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log.open("w")
        command = [sys.executable, "-m", "tarifrules.cli", "serve", str(FOLDER), "--port", str(self.port),
                   "--processus", str(processes)]
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT)

    def wait_ready(self) -> None:
        import httpx

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/fichiers", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        raise SystemExit("le service n'a pas démarré en 60 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()


# ------------------------------------------------------------------ who used the cores


def _ticks(path: str) -> list[int]:
    return [int(field) for field in Path(path).read_text().rsplit(")", 1)[-1].split()[11:13]]


def _tree_cpu(root: int) -> float:
    """CPU seconds (user + system) of a process and of its live descendants (uvicorn workers)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[-1].split()[1])
        except (OSError, ValueError):
            continue
    tree, todo = set(), [root]
    while todo:
        pid = todo.pop()
        tree.add(pid)
        todo += [child for child, parent in parents.items() if parent == pid and child not in tree]
    total = 0
    for pid in tree:
        try:
            total += sum(_ticks(f"/proc/{pid}/stat"))
        except (OSError, ValueError):
            continue
    return total / os.sysconf("SC_CLK_TCK")


def _busy_cpu() -> float:
    """CPU seconds the whole machine spent running programs (user, nice, system) since boot."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:4]
    return sum(int(f) for f in fields) / os.sysconf("SC_CLK_TCK")


def _own_cpu() -> float:
    """CPU seconds of this script and of its children already waited for (the load generator)."""
    return sum(resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
               for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))


def measure(load: Any, duration: float, server: Server) -> dict[str, Any]:
    """Run the load; add the cores that programs other than the service and this benchmark took."""
    if not Path("/proc/stat").exists():  # not Linux: unknown
        return {**load(duration), "other_cores": None}
    before = _busy_cpu(), _tree_cpu(server.process.pid), _own_cpu(), time.monotonic()
    row = load(duration)
    after = _busy_cpu(), _tree_cpu(server.process.pid), _own_cpu(), time.monotonic()
    busy, service, own, elapsed = (b - a for a, b in zip(before, after, strict=True))
    return {**row, "other_cores": max(0.0, busy - service - own) / elapsed}


def check_answers(url: str) -> int:
    """Every household: the service answers exactly `Evaluation.to_json()` and the `version` of the
    file (its sha256); returns the mismatches."""
    import hashlib

    import httpx

    import tarifrules

    cantine = FOLDER / "restauration-scolaire.tarif"
    ruleset = tarifrules.load(cantine, file=cantine.name)
    sha256 = hashlib.sha256(cantine.read_bytes()).hexdigest()
    mismatches = 0
    with httpx.Client() as client:
        for household, body in zip(HOUSEHOLDS, bodies(), strict=True):
            answer = client.post(f"{url}/evaluer", content=body, headers={"content-type": "application/json"})
            document = answer.json()
            version = document.pop("version", {})
            expected = ruleset.evaluate(household, date=DATE).to_json()
            mismatches += int(document != expected or version.get("sha256") != sha256)
    return mismatches


# ------------------------------------------------------------------ wrk

_LUA = """
local bodies = {%s}
local counter = 0
local threads = {}
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
function setup(thread) table.insert(threads, thread) end
function init(args) non2xx = 0; server_errors = 0 end
function request()
  counter = counter %% #bodies + 1
  return wrk.format(nil, nil, nil, bodies[counter])
end
function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
  if status >= 500 then server_errors = server_errors + 1 end
end
function done(summary, latency, requests)
  local a, b = 0, 0
  for _, thread in ipairs(threads) do a = a + thread:get("non2xx"); b = b + thread:get("server_errors") end
  io.write(string.format("COUNTS %%d %%d\\n", a, b))
  for _, p in ipairs({50, 90, 99}) do io.write(string.format("P%%d %%f\\n", p, latency:percentile(p) / 1000)) end
  io.write(string.format("TOTAL %%d %%f\\n", summary.requests, summary.duration / 1e6))
  io.write(string.format("ERRORS %%d\\n", summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout))
end
"""


def run_wrk(url: str, connections: int, duration: float, threads: int) -> dict[str, Any]:
    lua = _LUA % ", ".join(json.dumps(b) for b in bodies())
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua)
    try:
        seconds = f"-d{max(1, round(duration))}s"
        output = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", seconds, "--latency",
                                 "-s", script.name, f"{url}/evaluer"], capture_output=True, text=True,
                                check=True).stdout
    finally:
        os.unlink(script.name)
    numbers = {key: value.split() for key, value in re.findall(r"^(COUNTS|P50|P90|P99|TOTAL|ERRORS) (.*)$",
                                                               output, re.M)}
    requests, seconds = int(numbers["TOTAL"][0]), float(numbers["TOTAL"][1])
    return {"requests": requests, "seconds": seconds, "rps": requests / seconds,
            "p50_ms": float(numbers["P50"][0]), "p90_ms": float(numbers["P90"][0]),
            "p99_ms": float(numbers["P99"][0]), "non_2xx": int(numbers["COUNTS"][0]),
            "server_errors": int(numbers["COUNTS"][1]), "socket_errors": int(numbers["ERRORS"][0])}


# ------------------------------------------------------------------ fallback: asyncio + httpx


def _httpx_worker(url: str, connections: int, duration: float, queue: Any) -> None:
    import httpx

    async def main() -> tuple[list[float], list[int]]:
        latencies: list[float] = []
        statuses: list[int] = []
        payloads = [b.encode() for b in bodies()]
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:
            stop = time.perf_counter() + duration

            async def user(offset: int) -> None:
                index = offset
                while time.perf_counter() < stop:
                    start = time.perf_counter()
                    answer = await client.post(f"{url}/evaluer", content=payloads[index % len(payloads)],
                                               headers={"content-type": "application/json"})
                    latencies.append(time.perf_counter() - start)
                    statuses.append(answer.status_code)
                    index += 1

            await asyncio.gather(*(user(i) for i in range(connections)))
        return latencies, statuses

    queue.put(asyncio.run(main()))


def run_httpx(url: str, connections: int, duration: float) -> dict[str, Any]:
    queue: Any = multiprocessing.Queue()
    worker = multiprocessing.Process(target=_httpx_worker, args=(url, connections, duration, queue))
    worker.start()
    latencies, statuses = queue.get()
    worker.join()
    cuts = statistics.quantiles(latencies, n=100)
    return {"requests": len(statuses), "seconds": duration, "rps": len(statuses) / duration,
            "p50_ms": cuts[49] * 1000, "p90_ms": cuts[89] * 1000, "p99_ms": cuts[98] * 1000,
            "non_2xx": sum(not 200 <= s < 300 for s in statuses), "server_errors": sum(s >= 500 for s in statuses),
            "socket_errors": 0}


# ------------------------------------------------------------------ report


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": str(os.cpu_count()), "python": platform.python_version(),
            "system": f"{platform.system()} {platform.release()}"}


def meets_target(row: dict[str, Any]) -> bool:
    return (row["rps"] >= TARGET_RPS and row["p99_ms"] < TARGET_P99_MS and row["server_errors"] == 0
            and row["socket_errors"] == 0)


def summary(rows: list[dict[str, Any]]) -> str:
    """Which scenarios meet the target, and why the others do not."""
    met = [f"{r['processes']}×{r['connections']}" for r in rows if meets_target(r)]
    missed = []
    for r in rows:
        if not meets_target(r):
            why = [f"{r['rps']:.0f} requêtes/s"] if r["rps"] < TARGET_RPS else []
            why += [f"p99 {r['p99_ms']:.1f} ms"] if r["p99_ms"] >= TARGET_P99_MS else []
            why += [f"{r['server_errors']} 5xx"] if r["server_errors"] else []
            why += [f"{r['socket_errors']} erreur(s) de connexion"] if r["socket_errors"] else []
            missed.append(f"{r['processes']}×{r['connections']} ({', '.join(why)})")
    text = f"objectif atteint dans {len(met)} scénario(s) sur {len(rows)}"
    text += f" : {', '.join(met)}" if met else ""
    return text + (f" ; non atteint : {' ; '.join(missed)}" if missed else "")


def _cores(value: float | None) -> str:
    return "?" if value is None else f"{value:.2f}"


def report(rows: list[dict[str, Any]], tool: str, duration: float, mismatches: int, command: str) -> str:
    info = machine()
    lines = [
        "# Service HTTP : charge sur `POST /evaluer`",
        "",
        "Écrit par `benchmarks/bench_service.py` (ne pas modifier à la main). Un foyer par requête "
        f"(la cantine, {len(HOUSEHOLDS)} foyers à tour de rôle : toutes les tranches, demandeur d'emploi ou non, "
        "données inconnues), réponse complète (résultats, données manquantes, explication). Service "
        "`tarifrules serve examples/deliberations` (uvicorn, journal d'accès actif) et générateur de charge "
        f"({tool}) sur la même machine, en boucle fermée pendant {duration:g} s par scénario après 2 s de chauffe.",
        "",
        f"- machine : {info['cpu']}, {info['cores']} cœurs ; {info['system']} ; Python {info['python']}",
        f"- date : {datetime.date.today().isoformat()} ; commande : `{command}`",
        f"- réponses comparées à `Evaluation.to_json()` avant la charge : {mismatches} différence(s)",
        f"- objectif (issue 7) : au moins {TARGET_RPS} requêtes/s avec un p99 sous {TARGET_P99_MS:g} ms "
        "sur 2 cœurs, aucune réponse 5xx ni erreur de connexion",
        f"- **{summary(rows)}**",
        "",
        "| processus | connexions | requêtes | requêtes/s | p50 (ms) | p90 (ms) | p99 (ms) | non-2xx | 5xx "
        "| erreurs de connexion | charge avant | autres programmes (cœurs) | objectif |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        lines.append(f"| {row['processes']} | {row['connections']} | {row['requests']} | {row['rps']:.0f} | "
                     f"{row['p50_ms']:.1f} | {row['p90_ms']:.1f} | {row['p99_ms']:.1f} | {row['non_2xx']} | "
                     f"{row['server_errors']} | {row['socket_errors']} | {row['load_before']:.1f} | "
                     f"{_cores(row.get('other_cores'))} | {'atteint' if meets_target(row) else 'non atteint'} |")
    lines += ["", "« charge avant » : la charge moyenne du système (load average sur 1 minute) juste avant "
              "le scénario ; elle compte encore, pour une part, les processus du scénario précédent. "
              "« autres programmes » : les cœurs pris en moyenne, pendant la mesure, par les programmes autres "
              "que le service et le générateur de charge (temps CPU de la machine moins le leur) ; au-delà de "
              "0,1 environ, d'autres programmes prenaient des cœurs et les chiffres sont pessimistes. Le "
              "générateur de charge partage aussi les cœurs du service. Avec plusieurs processus, le noyau "
              "répartit les connexions entre eux à l'ouverture, et un processus réveillé le premier peut prendre "
              "la plupart de celles ouvertes d'un coup : la répartition peut être inégale, et le débit d'un "
              "scénario à 2 processus proche de celui d'un seul. En boucle fermée, la latence "
              "moyenne est le nombre de connexions divisé par le débit : au-delà d'un certain nombre de "
              "connexions, le p99 dépasse l'objectif quel que soit le débit.", ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load per scenario")
    parser.add_argument("--scenarios", default="1x1,1x8,2x4,2x8,2x16,2x32,2x64,2x128",
                        help="processes x connections, comma-separated")
    parser.add_argument("--tool", choices=["auto", "wrk", "httpx"], default="auto")
    parser.add_argument("--no-write", action="store_true", help=f"do not write {RESULTS.name}")
    parser.add_argument("--json", type=Path, help="also write the raw numbers here")
    args = parser.parse_args()
    tool = ("wrk" if shutil.which("wrk") else "httpx") if args.tool == "auto" else args.tool
    rows: list[dict[str, Any]] = []
    mismatches = 0
    with tempfile.TemporaryDirectory() as tmp:
        for scenario in args.scenarios.split(","):
            processes, connections = (int(part) for part in scenario.split("x"))
            server = Server(processes, Path(tmp) / f"serve-{scenario}.log")
            try:
                server.wait_ready()
                busy = os.getloadavg()[0]
                mismatches += check_answers(server.url)
                load = ((lambda d, c=connections, u=server.url: run_wrk(u, c, d, threads=1)) if tool == "wrk"
                        else (lambda d, c=connections, u=server.url: run_httpx(u, c, d)))
                load(2.0)  # warm-up: imports, caches, uvicorn workers
                row = {"processes": processes, "connections": connections, "load_before": busy,
                       **measure(load, args.duration, server)}
            finally:
                server.stop()
            rows.append(row)
            print(f"{processes} processus × {connections} connexions : {row['rps']:.0f} requêtes/s, "
                  f"p50 {row['p50_ms']:.1f} ms, p99 {row['p99_ms']:.1f} ms, non-2xx {row['non_2xx']}, "
                  f"5xx {row['server_errors']}, erreurs de connexion {row['socket_errors']}, charge avant "
                  f"{busy:.1f}, autres programmes {_cores(row['other_cores'])} cœur", flush=True)
    print(summary(rows))
    command = "python benchmarks/bench_service.py " + " ".join(sys.argv[1:])
    text = report(rows, "wrk" if tool == "wrk" else "asyncio + httpx, un processus à part", args.duration,
                  mismatches, command.strip())
    if not args.no_write:
        RESULTS.write_text(text, encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps({"tool": tool, "mismatches": mismatches, "rows": rows}, indent=2))
    return 1 if mismatches or any(row["server_errors"] for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
