"""API Particulier: a local fake server (adapters come later, see issue 5)."""

from .fake import FakeApiParticulier, handle, issue_token, serve

__all__ = ["FakeApiParticulier", "handle", "issue_token", "serve"]
