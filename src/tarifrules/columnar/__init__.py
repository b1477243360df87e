"""Columnar evaluation: a whole table of households at once, exactly as `RuleSet.evaluate`.

NumPy arrays are the compute format (scaled int64 for amounts, boolean masks for unknown
data, errors and « non applicable »); Arrow is the exchange format (`inputs.py` reads
Arrow tables, `OutputColumn.to_arrow` writes decimal128). See README, « Architecture ».
"""

from .outputs import OutputColumn
from .table import ERROR, OK, STATUS_WORDS, UNDETERMINED, TableResult, evaluate_table

__all__ = ["ERROR", "OK", "STATUS_WORDS", "UNDETERMINED", "OutputColumn", "TableResult", "evaluate_table"]
