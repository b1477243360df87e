"""The HTTP service (`tarifrules serve DOSSIER`): the rule files of a folder over HTTP.

FastAPI on uvicorn. One module per concern: `registry` (the files served, reloaded when
they change), `errors` (French JSON errors with stable codes), `requests` (bounded body
reading, JSON parsing, situation validation against the file's JSON Schema), `models`
(the documents, for OpenAPI), `app` (routes and access log), `server` (uvicorn), `protocol`
(uvicorn's httptools protocol, one write per response).

Importing this package does not import FastAPI: `tarifrules --version` stays fast.
"""
