"""tarifrules: délibérations tarifaires en règles exécutables."""

__version__ = "0.1.0"
