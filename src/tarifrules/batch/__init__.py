"""`tarifrules batch`: a population file (CSV or Parquet) through `RuleSet.evaluate_table`.

`files.py` reads and writes the files, `run.py` evaluates by slices and gathers the
results, `report.py` writes the French summary and the comparison of two rule files.
"""
