"""API Particulier: the client (`client.py`) and a local fake server (`fake.py`, fixtures in
`fixtures.py`, routes in `routes.py`, a synthetic population in `population.py`)."""

from .fake import FakeApiParticulier, handle, issue_france_connect_token, issue_token, serve
from .population import population_identities, synthetic_population

__all__ = ["FakeApiParticulier", "handle", "issue_france_connect_token", "issue_token", "population_identities",
           "serve", "synthetic_population"]
