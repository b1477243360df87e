"""API Impôt particulier (DGFiP): a separate habilitation from API Particulier (issue 9)."""
