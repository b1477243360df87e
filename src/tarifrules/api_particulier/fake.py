"""A local fake API Particulier (v3+ routes), stdlib only.

`handle(method, path, query, headers) -> (status, headers, body)` is a pure-ish
request → response function (state: issued tokens and rate-limit windows) usable in
process, e.g. behind `httpx.MockTransport`; `serve()` wraps it in a
`ThreadingHTTPServer`. Facts come from shared/api-particulier/REFERENCE.md (§1, §3.1,
§4.1, §4.7, §4.10, §7, §8, §11.2). The fixture households are invented.
"""

from __future__ import annotations

import copy
import json
import math
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Query = Mapping[str, list[str]]
Response = tuple[int, dict[str, str], bytes]

_REQUEST_IDS = uuid.UUID("6c1f4a52-0e5e-4d3b-9a53-7461726966ff")  # namespace of the fake's X-Request-IDs
RATE_LIMIT = 20  # requests per 1-second window and per token (REFERENCE §8)
JSON_API = "application/vnd.api+json"
QF_V1_GONE = ("L'API Quotient Familial v1 n'est plus disponible depuis le 31/10/2025. "
              "Utilisez l'API Quotient Familial v3 : /v3/dss/quotient_familial/identite.")

QF_PATH = "/v3/dss/quotient_familial/identite"
FT_PATH = "/v3/france_travail/statut/identifiant"
MEN_PATH = "/v5/men/scolarites/identite"
GONE_PATHS = ("/api/v2/composition-familiale", "/api/caf/famille")

# Top-level key of `data` → the scope that governs it (REFERENCE §4.1, §4.7, §4.10).
QF_SCOPES = {"quotient_familial": "cnaf_quotient_familial", "allocataires": "cnaf_allocataires",
             "enfants": "cnaf_enfants", "adresse": "cnaf_adresse"}
FT_SCOPES = {"identifiant": "pole_emploi_identifiant", "identite": "pole_emploi_identite",
             "contact": "pole_emploi_contact", "adresse": "pole_emploi_adresse",
             "inscription": "pole_emploi_inscription"}
MEN_SCOPES = {"identite": "men_statut_identite", "annee_scolaire": "men_statut_scolarite",
              "est_scolarise": "men_statut_scolarite", "statut_eleve": "men_statut_scolarite",
              "etablissement": "men_statut_etablissement",
              "module_elementaire_formation": "men_statut_module_elementaire_formation",
              "est_boursier": "men_statut_boursier", "echelon_bourse": "men_echelon_bourse",
              "regime_pensionnat": "men_regime_pensionnat"}
ENDPOINT_SCOPES = {QF_PATH: QF_SCOPES, FT_PATH: FT_SCOPES, MEN_PATH: MEN_SCOPES}
ALL_SCOPES: tuple[str, ...] = tuple(sorted({s for scopes in ENDPOINT_SCOPES.values() for s in scopes.values()}))

# ------------------------------------------------------------------ fixtures (invented)

_DSS_IDENTITY = ("nomNaissance", "nomUsage", "prenoms", "anneeDateNaissance", "moisDateNaissance",
                 "jourDateNaissance", "sexeEtatCivil", "codeCogInseePaysNaissance",
                 "codeCogInseeCommuneNaissance", "nomCommuneNaissance", "codeCogInseeDepartementNaissance")
_MEN_IDENTITY = ("nomNaissance", "prenoms", "sexeEtatCivil", "anneeDateNaissance", "moisDateNaissance",
                 "jourDateNaissance", "codeEtablissement")


def _person(nom: str, prenoms: str, date: str, sexe: str, usage: str | None = None) -> dict[str, Any]:
    return {"nom_naissance": nom, "nom_usage": usage, "prenoms": prenoms, "date_naissance": date, "sexe": sexe}


def _address(recipient: str, street: str, town: str) -> dict[str, Any]:
    return {"destinataire": recipient, "complement_information": None, "complement_information_geographique": None,
            "numero_libelle_voie": street, "lieu_dit": None, "code_postal_ville": town, "pays": "FRANCE"}


# Each QF fixture: identity params (as sent; matching is on lower-cased values, exact set
# of params, like staging) → (status, data or error).
QF_FIXTURES: list[tuple[dict[str, Any], int, dict[str, Any]]] = [
    ({"nomNaissance": "LAVANDIER", "prenoms": ["CAMILLE"], "sexeEtatCivil": "F", "anneeDateNaissance": "1988",
      "moisDateNaissance": "4", "jourDateNaissance": "17", "codeCogInseePaysNaissance": "99100",
      "codeCogInseeCommuneNaissance": "24037"}, 200,
     {"quotient_familial": {"fournisseur": "CNAF", "valeur": 650, "annee_calcul": 2025, "mois_calcul": 10},
      "allocataires": [_person("LAVANDIER", "CAMILLE", "1988-04-17", "F")],
      "enfants": [_person("LAVANDIER", "LOU", "2016-09-02", "F"), _person("LAVANDIER", "ELIOTT", "2019-00-00", "M")],
      "adresse": _address("Madame LAVANDIER CAMILLE", "4 RUE DES TILLEULS", "24750 CHAMPCEVINEL")}),
    ({"nomNaissance": "PRAIRIAL", "prenoms": ["JULES", "ANTOINE"], "sexeEtatCivil": "M",
      "anneeDateNaissance": "1979", "moisDateNaissance": "9", "jourDateNaissance": "2",
      "codeCogInseePaysNaissance": "99100", "codeCogInseeCommuneNaissance": "19031"}, 200,
     {"quotient_familial": {"fournisseur": "MSA", "valeur": 480, "annee_calcul": None, "mois_calcul": None},
      "allocataires": [_person("PRAIRIAL", "JULES ANTOINE", "1979-09-02", "M"),
                       _person("BRUMAIRE", "ROSE", "1981-03-30", "F", usage="PRAIRIAL")],
      "enfants": [_person("PRAIRIAL", "MAX", "2010-05-12", "M"), _person("PRAIRIAL", "ZOE", "2013-11-21", "F"),
                  _person("PRAIRIAL", "TOM", "2018-07-07", "M")],
      "adresse": _address("Monsieur PRAIRIAL JULES", "LIEU-DIT LES GRANGES", "19000 TULLE")}),
    ({"nomNaissance": "FANTOME", "prenoms": ["NOE"], "sexeEtatCivil": "M", "anneeDateNaissance": "1995",
      "moisDateNaissance": "1", "jourDateNaissance": "1", "codeCogInseePaysNaissance": "99100",
      "codeCogInseeCommuneNaissance": "33063"}, 404,
     {"code": "23003", "title": "Dossier allocataire absent CNAF",
      "detail": "Le dossier allocataire n'a pas été trouvé auprès de la CNAF.", "meta": {"provider": "CNAF"}}),
]
QF_NOT_FOUND = {"code": "37003", "title": "Dossier allocataire absent CNAV",
                "detail": "Le dossier allocataire n'a pas été trouvé auprès de la CNAV.", "meta": {"provider": "CNAV"}}

FT_FIXTURES: dict[str, dict[str, Any]] = {
    "demandeur.cat1": {
        "identite": {"civilite": "M.", "nom_naissance": "SABLIER", "nom_usage": None, "prenom": "HUGO",
                     "sexe": "Masculin", "date_naissance": "1990-06-14"},
        "contact": {"telephone": "0600000000", "telephone2": None, "email": None},
        "adresse": {"code_postal": "24750", "code_cog_insee_commune": "24037", "localite": "24750 CHAMPCEVINEL",
                    "ligne_voie": "8 IMPASSE DES ORMES", "ligne_complement_destinataire": None,
                    "ligne_complement_adresse": None, "ligne_complement_distribution": None,
                    "ligne_nom": "M. SABLIER HUGO"},
        "inscription": {"date_debut": "2025-02-03", "date_fin": None, "code_certification_cnav": "VC",
                        "categorie": {"code": 1,
                                      "libelle": "PERSONNE SANS EMPLOI DISPONIBLE DUREE INDETERMINEE PLEIN TPS"}},
    },
}
FT_NOT_FOUND = {"code": "24003", "title": "Entité non trouvée",
                "detail": "Aucun demandeur d'emploi n'a été trouvé avec l'identifiant fourni.",
                "meta": {"provider": "France Travail"}}

MEN_FIXTURES: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"nomNaissance": "LOUVEL", "prenoms": ["INES"], "sexeEtatCivil": "F", "anneeDateNaissance": "2013",
      "moisDateNaissance": "2", "jourDateNaissance": "11", "codeEtablissement": "0240012X"},
     {"identite": {"nom": "LOUVEL", "prenom": "INES", "sexe": "F", "date_naissance": "2013-02-11"},
      "est_scolarise": True, "statut_eleve": {"code": "ST", "libelle": "SCOLAIRE"},
      "etablissement": {"code_uai": "0240012X", "code_ministere_tutelle": "06"},
      "module_elementaire_formation": {"code_mef_stat": "10310019110", "libelle": "5EME"},
      "est_boursier": True, "echelon_bourse": 2,
      "regime_pensionnat": {"code": "2", "libelle": "Demi-pensionnaire dans l'établissement"}}),
]
MEN_NOT_FOUND = {"code": "30003", "title": "Entité non trouvée",
                 "detail": "Aucun élève n'a pu être trouvé avec les critères de recherche fournis",
                 "meta": {"provider": "MEN"}}

# ------------------------------------------------------------------ errors


def _error(code: str, title: str, detail: str, parameter: str | None = None,
           meta: dict[str, Any] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "title": title, "detail": detail}
    if parameter is not None:
        error["source"] = {"parameter": parameter}
    error["meta"] = meta or {}
    return error


def _unprocessable(code: str, detail: str, parameter: str) -> tuple[int, dict[str, Any]]:
    return 422, {"errors": [_error(code, "Entité non traitable", detail, parameter)]}


def _siret_ok(value: str) -> bool:
    if len(value) != 14 or not value.isdigit():
        return False
    if value.startswith("356000000"):
        return True  # La Poste
    total = 0
    for index, char in enumerate(reversed(value)):
        digit = int(char) * (2 if index % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


# ------------------------------------------------------------------ server state


def _values(query: Query, name: str) -> list[str]:
    return [v for v in (*query.get(name, []), *query.get(f"{name}[]", [])) if v != ""]


def _first(query: Query, name: str) -> str | None:
    values = _values(query, name)
    return values[0] if values else None


def _key(query: Query, names: Iterable[str]) -> str:
    """Staging-like matching key: the params present, values lower-cased, sorted."""
    parts = []
    for name in sorted(names):
        values = _values(query, name)
        if values:
            parts.append(f"{name}={'|'.join(v.strip().lower() for v in values)}")
    return "&".join(parts)


def _fixture_key(params: Mapping[str, Any], names: Iterable[str]) -> str:
    query = {k: (v if isinstance(v, list) else [str(v)]) for k, v in params.items()}
    return _key(query, names)


class FakeApiParticulier:
    """The fake server's state: issued tokens and per-token rate-limit windows."""

    def __init__(self, clock: Callable[[], float] = time.time, rate_limit: int = RATE_LIMIT):
        self.clock = clock
        self.rate_limit = rate_limit
        self.tokens: dict[str, frozenset[str]] = {}
        self._windows: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()
        self._served = 0

    def _request_id(self) -> str:
        """A UUID like the real ones, but reproducible: the n-th request of a fresh server
        always gets the same one (documentation sessions and tests compare outputs)."""
        with self._lock:
            self._served += 1
            number = self._served
        return str(uuid.uuid5(_REQUEST_IDS, str(number)))

    def issue_token(self, scopes: Iterable[str] = ALL_SCOPES) -> str:
        token = "fake-" + secrets.token_urlsafe(24)
        with self._lock:
            self.tokens[token] = frozenset(scopes)
        return token

    # -------------------------------------------------------------- request → response

    def handle(self, method: str, path: str, query: Query | None = None,
               headers: Mapping[str, str] | None = None) -> Response:
        query = query or {}
        lowered = {k.lower(): v for k, v in (headers or {}).items()}
        out = {"X-Request-ID": self._request_id()}
        path = path.rstrip("/") or "/"
        if method.upper() not in ("GET", "HEAD"):
            return self._json(405, {"errors": [_error("00405", "Méthode non autorisée",
                                                       "Seule la méthode GET est acceptée")]}, out)
        if path == "/api/ping":
            out["Content-Type"] = "text/plain; charset=utf-8"
            return 200, out, b"pong"
        if path in GONE_PATHS:
            out["Content-Type"] = "text/plain; charset=utf-8"
            return 410, out, QF_V1_GONE.encode()
        if path not in ENDPOINT_SCOPES:
            return self._json(404, {"errors": [_error("00404", "Route introuvable",
                                                      f"La route {path} n'existe pas sur ce serveur")]}, out)
        authorization = lowered.get("authorization", "")
        token = authorization[7:].strip() if authorization.lower().startswith("bearer ") else ""
        scopes = self.tokens.get(token)
        if scopes is None:
            return self._json(401, {"errors": [_error("00101", "Interdit",
                                                      "Votre token n'est pas valide ou n'est pas renseigné",
                                                      "token")]}, out)
        limited = self._rate(token, out)
        if limited:
            return self._json(429, {"errors": [_error("00429", "Trop de requêtes",
                                                      "Vous avez effectué trop de requêtes")]}, out)
        key_scopes = ENDPOINT_SCOPES[path]
        if not scopes & set(key_scopes.values()):
            return self._json(403, {"errors": [_error("00100", "Privilèges insuffisants",
                                                      "Votre token est valide mais vos privilèges sont "
                                                      "insuffisants", "token")]}, out)
        recipient = _first(query, "recipient")
        if recipient is None:
            return self._json(*_unprocessable("00203", "Le paramètre recipient est obligatoire", "recipient"), out)
        if not _siret_ok(recipient):
            return self._json(*_unprocessable("00210", "Le paramètre recipient n'est pas un siret valide",
                                              "recipient"), out)
        if path == QF_PATH:
            status, body = self._qf(query)
        elif path == FT_PATH:
            status, body = self._france_travail(query)
        else:
            status, body = self._men(query)
        if status == 200:
            body = {"data": _mask(body, key_scopes, scopes), "links": {}, "meta": {}}
        if path == QF_PATH:
            out["X-Response-Cached"] = "false"
            out["X-Cache-Expires-in"] = ""
        return self._json(status, body, out)

    def _json(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> Response:
        headers["Content-Type"] = JSON_API
        return status, headers, json.dumps(body, ensure_ascii=False).encode("utf-8")

    def _rate(self, token: str, headers: dict[str, str]) -> bool:
        now = self.clock()
        window = math.floor(now)
        with self._lock:
            start, count = self._windows.get(token, (window, 0))
            if start != window:
                start, count = window, 0
            count += 1
            self._windows[token] = (start, count)
        reset = start + 1
        headers["RateLimit-Limit"] = str(self.rate_limit)
        headers["RateLimit-Remaining"] = str(max(self.rate_limit - count, 0))
        headers["RateLimit-Reset"] = str(reset)
        if count > self.rate_limit:
            headers["Retry-After"] = str(max(math.ceil(reset - now), 1))
            return True
        return False

    # -------------------------------------------------------------- endpoints

    def _qf(self, query: Query) -> tuple[int, dict[str, Any]]:
        for name, code, detail in (("nomNaissance", "00420", "Le nom de naissance est manquant"),
                                   ("prenoms", "00421", "Le(s) prenom(s) est manquant"),
                                   ("sexeEtatCivil", "00427", "Le sexe de l'état civil est manquant")):
            if not _values(query, name):
                return _unprocessable(code, detail, name)
        if len(_values(query, "prenoms")) > 3 or (_first(query, "sexeEtatCivil") or "").upper() not in ("M", "F"):
            return _unprocessable("00366", "Un ou plusieurs paramètres de civilité ne sont pas correctement "
                                  "formatés", "prenoms" if len(_values(query, "prenoms")) > 3 else "sexeEtatCivil")
        country = _first(query, "codeCogInseePaysNaissance") or ""
        if len(country) != 5 or not country.isdigit():
            return _unprocessable("00400", "Le code pays INSEE n'est pas correctement formaté",
                                  "codeCogInseePaysNaissance")
        if country == "99100" and not _first(query, "codeCogInseeCommuneNaissance") and not (
                _first(query, "nomCommuneNaissance") and _first(query, "codeCogInseeDepartementNaissance")
                and _first(query, "anneeDateNaissance")):
            return _unprocessable("00426", "Le code cog de la commune de naissance est manquant",
                                  "codeCogInseeCommuneNaissance")
        today = time.localtime(self.clock())
        try:
            year = int(_first(query, "annee") or today.tm_year)
            month = int(_first(query, "mois") or today.tm_mon)
        except ValueError:
            return _unprocessable("00366", "Un ou plusieurs paramètres de civilité ne sont pas correctement "
                                  "formatés", "annee")
        if year not in range(today.tm_year - 2, today.tm_year + 1):
            return _unprocessable("00356", f"L'année demandée doit être l'année en cours ({today.tm_year}), "
                                  "N-1 ou N-2.", "annee")
        if not 1 <= month <= 12 or (year == today.tm_year and month > today.tm_mon):
            return _unprocessable("00354", "Le mois demandé est incorrect ou est dans le futur.", "mois")
        key = _key(query, _DSS_IDENTITY)
        for params, status, payload in QF_FIXTURES:
            if _fixture_key(params, _DSS_IDENTITY) == key:
                if status != 200:
                    return status, {"errors": [copy.deepcopy(payload)]}
                data = copy.deepcopy(payload)
                qf = data["quotient_familial"]
                qf["annee"], qf["mois"] = year, month
                if qf["annee_calcul"] is None:  # MSA: computed now
                    qf["annee_calcul"], qf["mois_calcul"] = today.tm_year, today.tm_mon
                data["quotient_familial"] = {k: qf[k] for k in ("fournisseur", "valeur", "annee", "mois",
                                                                "annee_calcul", "mois_calcul")}
                return 200, data
        return 404, {"errors": [dict(QF_NOT_FOUND)]}

    def _france_travail(self, query: Query) -> tuple[int, dict[str, Any]]:
        identifiant = _first(query, "identifiant")
        if identifiant is None:
            return _unprocessable("00380", "L'identifiant est manquant", "identifiant")
        found = FT_FIXTURES.get(identifiant)
        if found is None:
            return 404, {"errors": [dict(FT_NOT_FOUND)]}
        return 200, {"identifiant": identifiant, **copy.deepcopy(found)}

    def _men(self, query: Query) -> tuple[int, dict[str, Any]]:
        for name, code, detail in (("nomNaissance", "00420", "Le nom de naissance est manquant"),
                                   ("prenoms", "00421", "Le(s) prenom(s) est manquant"),
                                   ("sexeEtatCivil", "00427", "Le sexe de l'état civil est manquant")):
            if not _values(query, name):
                return _unprocessable(code, detail, name)
        school_year = _first(query, "anneeScolaire") or ""
        parts = school_year.split("-")
        if not (all(p.isdigit() and len(p) == 4 for p in parts) and len(parts) in (1, 2)):
            return _unprocessable("00411", "L'année scolaire n'est pas correctement formatée: doit être sur le "
                                  "format YYYY ou YYYY-YYYY)", "anneeScolaire")
        uai = _first(query, "codeEtablissement")
        perimeter = _values(query, "codesBcnDepartements") or _values(query, "codesBcnRegions")
        if uai and perimeter:
            return _unprocessable("00419", "Le code établissement et le périmètre sont mutuellement exclusifs",
                                  "codeEtablissement")
        if not uai and not perimeter:
            return _unprocessable("00410", "Le code établissement n'est pas correctement formaté: celui doit être "
                                  "composé de 7 chiffres et 1 lettre", "codeEtablissement")
        if uai and not (len(uai) == 8 and uai[:7].isdigit() and uai[7].isalnum()):
            return _unprocessable("00410", "Le code établissement n'est pas correctement formaté: celui doit être "
                                  "composé de 7 chiffres et 1 lettre", "codeEtablissement")
        identity = [n for n in _MEN_IDENTITY if n != "codeEtablissement"]
        key = _key(query, identity)
        start = int(parts[0])
        for params, payload in MEN_FIXTURES:
            if _fixture_key(params, identity) != key:
                continue
            if uai and uai.lower() != str(params["codeEtablissement"]).lower():
                continue
            data = copy.deepcopy(payload)
            data["annee_scolaire"] = f"{start}-{start + 1}"
            return 200, data
        return 404, {"errors": [dict(MEN_NOT_FOUND)]}


def _mask(data: dict[str, Any], key_scopes: Mapping[str, str], scopes: frozenset[str]) -> dict[str, Any]:
    """Keys whose scope is not held are absent (REFERENCE §4, §6.1)."""
    order = list(key_scopes)
    kept = {k: v for k, v in data.items() if key_scopes.get(k) in scopes}
    return dict(sorted(kept.items(), key=lambda item: order.index(item[0])))


DEFAULT = FakeApiParticulier()


def issue_token(scopes: Iterable[str] = ALL_SCOPES) -> str:
    """A token of the default fake server for these scopes."""
    return DEFAULT.issue_token(scopes)


def handle(method: str, path: str, query: Query | None = None, headers: Mapping[str, str] | None = None) -> Response:
    """Answer one request with the default fake server."""
    return DEFAULT.handle(method, path, query, headers)


# ------------------------------------------------------------------ HTTP wrapper


def make_server(host: str = "127.0.0.1", port: int = 0, fake: FakeApiParticulier | None = None) -> ThreadingHTTPServer:
    """A `ThreadingHTTPServer` answering with `fake` (default: the module's server); port 0 = ephemeral."""
    app = fake or DEFAULT

    class Handler(BaseHTTPRequestHandler):
        server_version = "FakeApiParticulier"

        def _answer(self, send_body: bool) -> None:
            parts = urlsplit(self.path)
            status, headers, body = app.handle(self.command, parts.path, parse_qs(parts.query, keep_blank_values=True),
                                               dict(self.headers.items()))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if send_body:
                self.wfile.write(body)

        def do_GET(self) -> None:
            self._answer(True)

        def do_HEAD(self) -> None:
            self._answer(False)

        def do_POST(self) -> None:
            self._answer(True)

        def log_message(self, format: str, *args: Any) -> None:  # never log tokens or identities
            return

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def serve(host: str = "127.0.0.1", port: int = 8080, fake: FakeApiParticulier | None = None) -> None:
    """Serve until interrupted."""
    server = make_server(host, port, fake)
    try:
        server.serve_forever()
    finally:
        server.server_close()
