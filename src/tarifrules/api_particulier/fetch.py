"""Fetch from API Particulier only what a rule file needs for one household (issue 5 item 2).

The loop: evaluate with what is known; among the data the evaluator read and found
unknown, keep those that can still change a result (some value of the datum gives other
outputs than leaving it unknown: a job seeker's status is not asked when the QF alone
fixes the tariff); call the one route serving most of them; map its answer to the rule
file's data, keeping only the data the scope analysis found needed and dropping every
other field on receipt; repeat until nothing deciding is left to fetch.

The loop is a generator (`Fetcher.steps`) that yields the calls to make and receives
their `ApiResult`: the sync `fetch` and the async `fetch_async` drive the same logic.
Errors never raise: a datum that could not be fetched stays unknown with its reason.
"""

from __future__ import annotations

import datetime
import itertools
import math
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .. import nodes as n
from ..catalogue import CatalogueEntry, normalize
from ..checks.context import Context
from ..checks.solver import candidates
from ..dgfip.client import ImpotParticulier, resource_path
from ..dgfip.years import income_year_choice
from ..diagnostics import TarifError
from ..ruleset import Evaluation, RuleSet
from ..scopes import API_PARTICULIER, analyse
from ..symbols import data_references
from ..values import UNKNOWN, spell
from .client import ApiParticulier, ApiResult, AsyncApiParticulier
from .household import Household
from .limits import HOUSEHOLD_DEADLINE, Budget, overall

__all__ = ["Call", "FetchResult", "Fetcher", "Provenance", "fetch", "fetch_async"]

DGFIP = "api_impot_particulier"
_MAX_WORLDS = 4096  # combinations of pending data tried when no datum decides alone
_UNSET = object()  # a datum left unknown in a combination
_MODE_ORDER = ("france_connect", "identite_pivot", "ine", "identifiant")
_PROVIDER_NAMES = {"CNAF": "CAF", "MSA": "MSA"}


@dataclass(frozen=True)
class Provenance:
    """Where one datum comes from: enough to cite it and to find the call in API logs."""

    datum: str
    endpoint: str
    provider: str
    request_id: str | None
    fetched_at: datetime.datetime
    cached: bool | None  # served from API Particulier's cache (`X-Response-Cached`)
    period: str | None = None  # what the value is of: « calculé en 10/2025 », « revenus 2025 »
    shown: str = ""  # the value as an explanation writes it (« 650 € »)
    api: str = "API Particulier"

    def sentence(self) -> str:
        """« source CAF via API Particulier, calculé en 10/2025 »."""
        text = f"source {self.provider} via {self.api}"
        if self.period:
            text += f", {self.period}"
        if self.cached:
            text += " (réponse du cache de l'API)"
        return text

    def to_json(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "provider": self.provider, "request_id": self.request_id,
                "fetched_at": self.fetched_at.isoformat(timespec="seconds"), "cached": self.cached,
                "period": self.period, "value": self.shown, "api": self.api, "source": self.sentence()}


@dataclass(frozen=True)
class Call:
    """One call made (retries included): its outcome, never its payload."""

    endpoint: str
    status: str  # ok | unknown | error (ApiResult.status)
    http_status: int | None
    code: str | None
    reason: str | None
    request_id: str | None
    data: tuple[str, ...]  # the rule file's data this call was made for

    def to_json(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "status": self.status, "http_status": self.http_status,
                "code": self.code, "reason": self.reason, "request_id": self.request_id, "data": list(self.data)}


@dataclass(frozen=True)
class FetchResult:
    """The situation to evaluate, where each datum comes from, and why the others are unknown."""

    situation: dict[str, Any]
    provenance: dict[str, Provenance]
    unknown: dict[str, str]  # datum → reason (« personne non trouvée (code 37003) »)
    calls: tuple[Call, ...]
    not_needed: tuple[str, ...] = field(default=())  # fetchable data nothing made deciding

    @property
    def errors(self) -> tuple[Call, ...]:
        """Calls refused for a configuration reason (token, scope, parameter): to fix, not to retry."""
        return tuple(call for call in self.calls if call.status == "error")

    def sources(self) -> dict[str, str]:
        """datum → the sentence an explanation cites (for an unknown datum: why)."""
        cited = {datum: f"non obtenu via API Particulier : {reason}" for datum, reason in self.unknown.items()}
        return {**cited, **{datum: p.sentence() for datum, p in self.provenance.items()}}

    def to_json(self) -> dict[str, Any]:
        return {"situation": {k: _json(v) for k, v in self.situation.items()},
                "provenance": {k: p.to_json() for k, p in self.provenance.items()},
                "unknown": dict(self.unknown), "calls": [c.to_json() for c in self.calls],
                "not_needed": list(self.not_needed)}


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class _Request:
    """What the generator asks its driver to call."""

    endpoint: str
    params: dict[str, Any]
    identity: Any  # Identity | None
    access_token: str | None
    scopes: tuple[str, ...]
    api: str = API_PARTICULIER  # or DGFIP: then `dgfip` says what to ask
    dgfip: DgfipCall | None = None


@dataclass(frozen=True)
class DgfipCall:
    """One call to API Impôt particulier: one foyer (numéro fiscal or FranceConnect), one year."""

    resource: str  # "ir" (one year) or "deuxans" (the last available notice)
    year: int | None
    spi: str | None
    france_connect: str | None


@dataclass(frozen=True)
class _Route:
    path: str


@dataclass(frozen=True)
class _Binding:
    datum: str
    entry: CatalogueEntry


class Fetcher:
    """Prepared once per rule file (scope analysis, candidate values), then `steps` per household."""

    def __init__(self, ruleset: RuleSet, *, clock: Callable[[], datetime.datetime] | None = None):
        self.ruleset = ruleset
        report = analyse([ruleset])
        self.bindings = {use.datum: _Binding(use.datum, use.entry) for use in report.uses
                         if use.entry is not None and use.entry.habilitation in (API_PARTICULIER, DGFIP)}
        self.years = {use.datum: income_year_choice(ruleset.symbols.data[use.datum].description)
                      for use in report.uses if use.datum in self.bindings and use.entry and use.entry.requires_one_of}
        self.dgfip_scopes = tuple(report.by_scope(DGFIP))
        self.scopes = tuple(report.scopes)
        context = Context(ruleset.program, ruleset.symbols, dict(ruleset.kinds.names))
        self._candidates = {name: candidates(context, name) for name in self.bindings}
        self._refs = {key: ref.name for key, ref in data_references(ruleset.program, ruleset.symbols).items()}
        self._clock = clock or (lambda: datetime.datetime.now(datetime.UTC))

    # -------------------------------------------------------------- the loop

    def steps(self, household: Household, date: datetime.date, situation: Mapping[str, Any] | None = None
              ) -> Generator[_Request, ApiResult, FetchResult]:
        known: dict[str, Any] = dict(situation or {})
        provenance: dict[str, Provenance] = {}
        unknown: dict[str, str] = {}
        calls: list[Call] = []
        attempted: set[str] = set()
        while True:
            deciding = self._deciding(known, date, attempted | set(unknown))
            if not deciding:
                break
            routes: dict[str, list[str]] = {}
            for datum in deciding:
                route = self._route(self.bindings[datum].entry, household, datum)
                if isinstance(route, _Route):
                    routes.setdefault(route.path, []).append(datum)
                else:
                    unknown[datum] = route
            if not routes:
                continue
            endpoint = max(routes, key=lambda path: len(routes[path]))  # ties: first in declaration order
            served = [d for d in self.bindings if d not in known and d not in unknown and self._serves(endpoint, d)]
            attempted.update(served)
            request = self._request(endpoint, household, date, served)
            result = yield request
            shown = _dgfip_path(request.dgfip) if request.dgfip else endpoint
            calls.append(Call(shown, result.status, result.http_status, result.code, result.reason,
                              result.request_id, tuple(served)))
            self._receive(result, request, served, date, known, provenance, unknown)
        fetchable = [d for d in self.bindings if d not in known and d not in unknown]
        situation_out = {name: known[name] for name in self.ruleset.data_names if name in known}
        return FetchResult(situation_out, provenance, unknown, tuple(calls), tuple(fetchable))

    def _deciding(self, known: Mapping[str, Any], date: datetime.date, done: set[str]) -> list[str]:
        """Fetchable data the evaluator read as unknown and that can still change a result."""
        evaluation = self.ruleset.evaluate(known, date=date)
        trace = self.ruleset.trace(evaluation.data)
        read = {name for key, name in self._refs.items() if trace.get(key) is UNKNOWN}
        base = _signature(evaluation)
        pending = [name for name in self.ruleset.data_names
                   if name in self.bindings and name not in done and name not in known]
        deciding = []
        for name in pending:
            if name not in read:
                continue
            values = self._candidates[name]
            if not values or any(_signature(e) != base for e in self._variants(known, date, name, values)):
                deciding.append(name)  # no candidate values (dates…): fetch rather than guess
        return deciding or self._jointly_deciding(known, date, pending, read)

    def _jointly_deciding(self, known: Mapping[str, Any], date: datetime.date, pending: list[str],
                          read: set[str]) -> list[str]:
        """When no datum changes a result alone, those that change one once others are known too
        (`si a est connu et b est connu : …`): every combination of the pending data's values
        (unknown included) is evaluated, and a datum is kept when two combinations that differ
        only by it give different results. Too many combinations: the unknown data read."""
        domains = [[*self._candidates[name], _UNSET] for name in pending]
        if any(len(domain) == 1 for domain in domains) or math.prod(len(d) for d in domains) > _MAX_WORLDS:
            return [name for name in pending if name in read]
        outcomes: dict[tuple[Any, ...], Any] = {}
        for combination in itertools.product(*domains):
            world = {**known, **{n: v for n, v in zip(pending, combination, strict=True) if v is not _UNSET}}
            try:
                outcomes[combination] = _signature(self.ruleset.evaluate(world, date=date))
            except TarifError:
                continue
        deciding = set()
        for combination, outcome in outcomes.items():
            for index, value in enumerate(combination):
                if value is _UNSET or pending[index] in deciding:
                    continue
                unset = (*combination[:index], _UNSET, *combination[index + 1:])
                if unset in outcomes and outcomes[unset] != outcome:
                    deciding.add(pending[index])
        return [name for name in pending if name in deciding]

    def _variants(self, known: Mapping[str, Any], date: datetime.date, name: str, values: list[Any]
                  ) -> Generator[Evaluation, None, None]:
        for value in values:
            try:
                yield self.ruleset.evaluate({**known, name: value}, date=date)
            except TarifError:
                continue  # a value the declaration refuses, or a computation the rules cannot do

    # -------------------------------------------------------------- routes and requests

    def _route(self, entry: CatalogueEntry, household: Household, datum: str = "") -> _Route | str:
        """The endpoint to call for this datum, or the reason no call can be made."""
        if entry.habilitation == DGFIP:
            choice = self.years.get(datum)
            if choice is None:
                return "année de revenus non dite dans la règle (voir T067)"
            if household.jeton_france_connect is None and household.numero_fiscal is None:
                return "identité à fournir : numero_fiscal ou jeton_france_connect"
            return _Route(f"{DGFIP}:{choice.key}")
        by_mode: dict[str, str] = {e.mode: e.path for e in entry.endpoints}
        for mode in _MODE_ORDER:
            path = by_mode.get(mode)
            if path is not None and _person(path, mode, household) is not None:
                return _Route(path)
        needs = [_PERSON_KEY.get(_family(path), "identité pivot") if mode == "identite_pivot" else _NEEDS[mode]
                 for mode, path in by_mode.items()]
        return "identité à fournir : " + " ou ".join(dict.fromkeys(needs))

    def _serves(self, endpoint: str, datum: str) -> bool:
        if endpoint.startswith(f"{DGFIP}:"):
            choice = self.years.get(datum)
            return choice is not None and endpoint == f"{DGFIP}:{choice.key}"
        return endpoint in _paths(self.bindings[datum].entry)

    def _request(self, endpoint: str, household: Household, date: datetime.date, served: list[str]) -> _Request:
        if endpoint.startswith(f"{DGFIP}:"):
            choice = self.years[served[0]]
            assert choice is not None
            call = DgfipCall("deuxans" if choice.back is None else "ir", None if choice.back is None else
                             choice.year(date), None if household.jeton_france_connect else household.numero_fiscal,
                             household.jeton_france_connect)
            scopes = tuple(dict.fromkeys(s for d in served for s in self.bindings[d].entry.required_scopes))
            return _Request(endpoint, {}, None, None, (*scopes, choice.scope), DGFIP, call)
        mode = _mode_of(endpoint)
        person = _person(endpoint, mode, household)
        params: dict[str, Any] = {}
        if "/quotient_familial/" in endpoint:
            params.update(_qf_month(date, self._clock().date()))
        elif "/men/" in endpoint:
            assert household.eleve is not None
            params["anneeScolaire"] = f"{_school_year(date)}-{_school_year(date) + 1}"
            params["codeEtablissement"] = household.eleve.code_etablissement
        elif "/cnous/" in endpoint:
            params["campaignYear"] = _school_year(date)
        if mode == "ine":
            params["ine"] = household.ine
        elif mode == "identifiant":
            params["identifiant"] = household.identifiant_france_travail
        identity = person if mode == "identite_pivot" else None
        scopes = tuple(dict.fromkeys(s for d in served for s in self.bindings[d].entry.required_scopes))
        token = household.jeton_france_connect if mode == "france_connect" else None
        return _Request(endpoint, params, identity, token, scopes)

    # -------------------------------------------------------------- answers

    def _receive(self, result: ApiResult, request: _Request, served: list[str], date: datetime.date,
                 known: dict[str, Any], provenance: dict[str, Provenance], unknown: dict[str, str]) -> None:
        endpoint = request.endpoint
        if result.status != "ok" or result.data is None:
            reason = result.reason or "réponse sans données"
            if result.code:
                reason += f" (code {result.code})"
            unknown.update({d: reason for d in served})
            return
        fetched_at = self._clock()
        for datum in served:
            entry = self.bindings[datum].entry
            value = _extract(entry, result.data, date)
            if isinstance(value, _Missing):
                unknown[datum] = value.reason
                continue
            if value is None:
                value = self._null(datum, entry)
                if value is None:
                    unknown[datum] = "non renseigné par le fournisseur"
                    continue
            try:
                evaluation = self.ruleset.evaluate({**known, datum: value}, date=date)
            except TarifError as exc:
                codes = [d.code for d in exc.diagnostics if d.code.startswith("D")]
                if codes:  # D00x: the value does not fit the declaration (E00x would be the rules' problem)
                    unknown[datum] = f"valeur reçue non conforme au type déclaré ({codes[0]})"
                    continue
                evaluation = None
            known[datum] = value
            read = evaluation.data.get(datum) if evaluation is not None else None
            dgfip = request.dgfip
            if dgfip is not None:
                year = dgfip.year if dgfip.year is not None else result.data.get("annRevenu")
                provenance[datum] = Provenance(datum, _dgfip_path(dgfip), "DGFiP", result.request_id, fetched_at,
                                               None, f"revenus {year}" if year else None,
                                               self._shown(datum, value if read is None else read),
                                               "API Impôt particulier")
            else:
                provenance[datum] = Provenance(datum, endpoint, _provider(entry, result.data), result.request_id,
                                               fetched_at, result.cached, _period(endpoint, result.data),
                                               self._shown(datum, value if read is None else read))

    def _shown(self, datum: str, value: Any) -> str:
        declaration = self.ruleset.symbols.data[datum]
        return spell(value, n.UNIT_OF_KIND.get(declaration.type.kind),
                     whole_euros=declaration.type.granularity is n.Granularity.ENTIER)

    def _null(self, datum: str, entry: CatalogueEntry) -> str | None:
        """An enumeration whose `null` means « none » (no échelon) reads as the rule's `aucun`."""
        declaration = self.ruleset.symbols.data[datum]
        if entry.null_means and declaration.type.kind is n.Kind.ENUM and "aucun" in declaration.type.choices:
            return "aucun"
        return None


# ------------------------------------------------------------------ drivers


def fetch(ruleset: RuleSet | Fetcher, household: Household, date: datetime.date, client: ApiParticulier,
          situation: Mapping[str, Any] | None = None, *, dgfip: ImpotParticulier | None = None,
          deadline: float = HOUSEHOLD_DEADLINE, clock: Callable[[], float] = time.monotonic) -> FetchResult:
    """Fetch what `ruleset` needs for `household` on `date`, with the sync clients (`dgfip`:
    API Impôt particulier, for the fiscal data; without it they stay unknown). All the calls
    share `deadline` seconds (measured by `clock`), besides each call's own: past it, the
    data left are unknown, « service indisponible », without calling."""
    fetcher = ruleset if isinstance(ruleset, Fetcher) else Fetcher(ruleset)
    steps = fetcher.steps(household, date, situation)
    with overall(Budget(deadline, clock=clock, label="du foyer")):
        try:
            request = next(steps)
            while True:
                request = steps.send(_call_dgfip(dgfip, request) if request.dgfip else _call(client, request))
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]


async def fetch_async(ruleset: RuleSet | Fetcher, household: Household, date: datetime.date,
                      client: AsyncApiParticulier, situation: Mapping[str, Any] | None = None, *,
                      deadline: float = HOUSEHOLD_DEADLINE, clock: Callable[[], float] = time.monotonic
                      ) -> FetchResult:
    """Same as `fetch`, with the async client."""
    fetcher = ruleset if isinstance(ruleset, Fetcher) else Fetcher(ruleset)
    steps = fetcher.steps(household, date, situation)
    with overall(Budget(deadline, clock=clock, label="du foyer")):
        return await _fetch_async(steps, client)


async def _fetch_async(steps: Generator[_Request, ApiResult, FetchResult], client: AsyncApiParticulier
                       ) -> FetchResult:
    try:
        request = next(steps)
        while True:
            if request.dgfip:
                result = ApiResult("error", None, "API Impôt particulier : pas de client asynchrone, utilisez fetch")
            else:
                try:
                    result = await client.get(request.endpoint, request.identity, access_token=request.access_token,
                                              scopes=request.scopes, **request.params)
                except TarifError as exc:
                    result = _refused(exc)
            request = steps.send(result)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


def _call(client: ApiParticulier, request: _Request) -> ApiResult:
    try:
        return client.get(request.endpoint, request.identity, access_token=request.access_token,
                          scopes=request.scopes, **request.params)
    except TarifError as exc:  # the identity does not meet this route's rules (A002): no call made
        return _refused(exc)


def _call_dgfip(client: ImpotParticulier | None, request: _Request) -> ApiResult:
    call = request.dgfip
    assert call is not None
    if client is None:
        return ApiResult("error", None, "API Impôt particulier non configurée (identifiants DGFiP absents)")
    try:
        return client.get("deuxans" if call.resource == "deuxans" else "ir", call.year, spi=call.spi,
                          france_connect=call.france_connect)
    except TarifError as exc:
        return _refused(exc)


def _dgfip_path(call: DgfipCall) -> str:
    """The route as it may be shown: the numéro fiscal never is."""
    return resource_path("deuxans" if call.resource == "deuxans" else "ir", call.year,
                         "{spi}" if call.spi else None)


def _refused(exc: TarifError) -> ApiResult:
    diagnostic = exc.diagnostics[0]
    return ApiResult("error", None, f"appel non fait : {diagnostic.message}", diagnostic.code)


# ------------------------------------------------------------------ helpers


_NEEDS = {"france_connect": "jeton_france_connect", "ine": "ine", "identifiant": "identifiant_france_travail"}
_PERSON_KEY = {"dss": "allocataire", "men": "eleve", "cnous": "etudiant", "mesri": "etudiant"}


def _family(path: str) -> str:
    """`/v3/dss/quotient_familial/identite` → `dss`."""
    parts = path.strip("/").split("/")
    return parts[1] if len(parts) > 1 else ""


def _paths(entry: CatalogueEntry) -> tuple[str, ...]:
    return tuple(e.path for e in entry.endpoints)


def _mode_of(path: str) -> str:
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return {"identite": "identite_pivot"}.get(last, last)


def _person(path: str, mode: str, household: Household) -> object | None:
    """What identifies the person on this route, if the household gives it."""
    if mode == "france_connect":
        return household.jeton_france_connect
    if mode == "ine":
        return household.ine
    if mode == "identifiant":
        return household.identifiant_france_travail if "/france_travail/" in path else None
    key = _PERSON_KEY.get(_family(path))
    return getattr(household, key) if key else None


def _school_year(date: datetime.date) -> int:
    """The first year of the school year containing `date` (September to August)."""
    return date.year if date.month >= 9 else date.year - 1


def _qf_month(date: datetime.date, today: datetime.date) -> dict[str, int]:
    """The QF of the month of `date` when it is a past month the API keeps (N−2 to N);
    the current month otherwise (the API refuses future months)."""
    if (date.year, date.month) < (today.year, today.month) and date.year >= today.year - 2:
        return {"annee": date.year, "mois": date.month}
    return {}


def _signature(evaluation: Evaluation) -> tuple[tuple[str, Any], ...]:
    return tuple((o.status, o.value) for o in evaluation.outputs.values())


@dataclass(frozen=True)
class _Missing:
    reason: str


def _walk(data: Any, path: list[str]) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return _Missing("champ absent de la réponse")
        if key not in data:
            return _Missing(f"champ {key} absent de la réponse (scope non accordé au jeton ?)")
        data = data[key]
    return data


def _extract(entry: CatalogueEntry, data: dict[str, Any], date: datetime.date) -> Any:
    """The datum's raw value from the `data` object of the answer, or `_Missing`."""
    derive = _DERIVED.get(entry.key)
    if derive is not None:
        return derive(data, date)
    if entry.derivation is not None:
        return _Missing("donnée dérivée que l'adaptateur ne calcule pas : à fournir dans la situation")
    assert entry.field is not None
    value = _walk(data, entry.field.removeprefix("data.").split("."))
    return Decimal(repr(value)) if isinstance(value, float) else value  # 2.5 parts, exactly


def _count(key: str) -> Any:
    def derive(data: dict[str, Any], date: datetime.date) -> Any:
        items = _walk(data, [key])
        return len(items) if isinstance(items, list) else (items if isinstance(items, _Missing) else None)
    return derive


def _job_seeker(data: dict[str, Any], date: datetime.date) -> Any:
    inscription = _walk(data, ["inscription"])
    if isinstance(inscription, _Missing) or inscription is None:
        return inscription if isinstance(inscription, _Missing) else False
    start, end = _day(inscription.get("date_debut")), _day(inscription.get("date_fin"))
    if start is None:
        return None
    return start <= date and (end is None or end > date)


def _current_admissions(data: dict[str, Any], date: datetime.date) -> Any:
    admissions = _walk(data, ["admissions"])
    if not isinstance(admissions, list):
        return admissions
    current = []
    for admission in admissions:
        start, end = _day(admission.get("date_debut")), _day(admission.get("date_fin"))
        if start is not None and start <= date and (end is None or date <= end):
            current.append(admission)
    return current


def _student(data: dict[str, Any], date: datetime.date) -> Any:
    current = _current_admissions(data, date)
    return bool(current) if isinstance(current, list) else current


def _enrolled(data: dict[str, Any], date: datetime.date) -> Any:
    current = _current_admissions(data, date)
    if not isinstance(current, list):
        return current
    flags = [a.get("est_inscrit") for a in current]
    if any(flag is True for flag in flags):
        return True
    return False if flags and all(flag is False for flag in flags) else (None if flags else False)


def _regime(data: dict[str, Any], date: datetime.date) -> Any:
    current = _current_admissions(data, date)
    if not isinstance(current, list):
        return current
    codes = {str(a["regime_formation"].get("code")) for a in current if isinstance(a.get("regime_formation"), dict)}
    if len(codes) == 1:
        return codes.pop()
    return _Missing("plusieurs admissions en cours : régime ambigu" if codes else "aucune admission en cours")


def _latest_payment(data: dict[str, Any], date: datetime.date) -> Any:
    payments = _walk(data, ["paiements"])
    if not isinstance(payments, list):
        return payments
    dated = [(p.get("date_versement") or "", p) for p in payments if isinstance(p, dict)]
    if not dated:
        return _Missing("aucun paiement connu de France Travail")
    amount = max(dated, key=lambda item: item[0])[1].get("montant_total")
    return None if amount is None else Decimal(str(amount))


def _day(text: Any) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


_DERIVED = {
    normalize("nombre d'allocataires CAF"): _count("allocataires"),
    normalize("nombre d'enfants CAF"): _count("enfants"),
    normalize("demandeur d'emploi"): _job_seeker,
    normalize("étudiant"): _student,
    normalize("étudiant inscrit"): _enrolled,
    normalize("régime de formation"): _regime,
    normalize("indemnités France Travail"): _latest_payment,
    normalize("parent isolé (case T)"): lambda data, date: (
        _walk(data, ["sitParIso"]) if isinstance(_walk(data, ["sitParIso"]), _Missing)
        else bool(data["sitParIso"])),
}


def _provider(entry: CatalogueEntry, data: dict[str, Any]) -> str:
    qf = data.get("quotient_familial")
    if isinstance(qf, dict) and qf.get("fournisseur"):
        return _PROVIDER_NAMES.get(str(qf["fournisseur"]), str(qf["fournisseur"]))
    provider = entry.provider or "?"
    return "CAF ou MSA" if provider == "CNAF/MSA" else provider


def _period(endpoint: str, data: dict[str, Any]) -> str | None:
    qf = data.get("quotient_familial")
    if isinstance(qf, dict) and qf.get("mois_calcul") and qf.get("annee_calcul"):
        return f"calculé en {int(qf['mois_calcul']):02d}/{qf['annee_calcul']}"
    if "/men/" in endpoint and data.get("annee_scolaire"):
        return f"année scolaire {data['annee_scolaire']}"
    return None


# ------------------------------------------------------------------ text


def fetch_text(result: FetchResult, ruleset: RuleSet) -> list[str]:
    """The French report printed by `tarifrules fetch`: data, their source, the calls made."""
    lines = ["Situation obtenue :"]
    for name in ruleset.data_names:
        if name in result.provenance:
            provenance = result.provenance[name]
            lines.append(f"  {name} = {provenance.shown} — {provenance.sentence()}")
        elif name in result.situation:
            lines.append(f"  {name} = {result.situation[name]} — fourni par l'appelant")
        elif name in result.unknown:
            lines.append(f"  {name} : inconnu — {result.unknown[name]}")
    if result.not_needed:
        lines.append("Non demandé (ne change aucun résultat pour ce foyer) : " + ", ".join(result.not_needed))
    lines.append(f"Appels ({len(result.calls)}) :")
    for call in result.calls:
        status = f"HTTP {call.http_status}" if call.http_status else "aucun appel"
        detail = f" — {call.reason}" if call.reason else ""
        request_id = f", X-Request-ID {call.request_id}" if call.request_id else ""
        lines.append(f"  {call.endpoint} : {status}{request_id}{detail}")
    if not result.calls:
        lines.append("  aucun")
    return lines
