"""Population files: CSV or Parquet in, CSV or Parquet out (chosen by the extension).

A CSV file is read with every column as text, so that a cell means for `batch` exactly
what it means in a situation (`650`, `650,50`, `oui`, empty = unknown); its separator,
`,` or `;`, is read from the header line and kept for the output file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORMATS = (".csv", ".parquet")


class FileProblem(Exception):
    """A population file that cannot be read or written (French message and hint)."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message, self.hint = message, hint


@dataclass(frozen=True)
class Population:
    """The table read, and how to number its rows for people (`first_line` is the first data row's line)."""

    table: Any
    first_line: int
    delimiter: str = ","


def file_format(path: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise FileProblem(f"format de fichier non reconnu : {path}",
                          "donnez un fichier .csv ou .parquet (le format se lit à l'extension)")
    return suffix


def read_population(path: str) -> Population:
    import pyarrow as pa

    suffix = file_format(path)
    if not Path(path).is_file():
        raise FileProblem(f"fichier introuvable : {path}", "vérifiez le chemin du fichier")
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            return Population(pq.ParquetFile(path).read(), 1)  # (read_table would import pyarrow.dataset)
        return _read_csv(path)
    except (pa.ArrowException, OSError, UnicodeDecodeError):
        raise FileProblem(f"fichier illisible : {path}",
                          "un fichier CSV en UTF-8 avec une ligne d'en-tête, ou un fichier Parquet, est attendu"
                          ) from None


def _read_csv(path: str) -> Population:
    import pyarrow.csv as csv

    with open(path, encoding="utf-8") as file:
        header = file.readline()
    delimiter = ";" if header.count(";") > header.count(",") else ","
    names = [name.strip().strip('"') for name in header.rstrip("\r\n").split(delimiter)]
    import pyarrow as pa

    table = csv.read_csv(
        path,
        parse_options=csv.ParseOptions(delimiter=delimiter),
        convert_options=csv.ConvertOptions(column_types=dict.fromkeys(names, pa.string())),
    )
    return Population(table, 2, delimiter)


def write_population(table: Any, path: str, delimiter: str = ",") -> None:
    import pyarrow as pa

    suffix = file_format(path)
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            pq.write_table(table, path, write_statistics=False)  # statistics double the writing time
            return
        import pyarrow.csv as csv

        columns = pa.table([_csv_column(table.column(i)) for i in range(table.num_columns)],
                           names=table.column_names)
        header = delimiter.join(_csv_cell(name, delimiter) for name in table.column_names) + "\n"
        for style in ("none", "needed"):  # plain cells as people write them; quotes only if a cell needs them
            try:
                with open(path, "wb") as file:
                    file.write(header.encode("utf-8"))
                    csv.write_csv(columns, file, write_options=csv.WriteOptions(
                        delimiter=delimiter, quoting_style=style, include_header=False))
                return
            except pa.ArrowInvalid:
                continue
    except (pa.ArrowException, OSError):
        raise _unwritable(path) from None


class ParquetStream:
    """A Parquet results file written slice by slice, one row group each (`write` in a worker thread,
    while the caller computes the next slice).

    Every slice must have the columns of the first one. A slice whose types differ (amounts with
    more decimal places, met only by rows evaluated one by one) stops the stream: `close` then
    says the file is not complete, and the caller writes the whole table at once."""

    def __init__(self, path: str):
        self.path = path
        self._writer: Any = None
        self._schema: Any = None
        self._stopped = False

    def write(self, table: Any) -> None:
        if self._stopped:
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            if self._writer is None:
                self._schema = table.schema
                self._writer = pq.ParquetWriter(self.path, table.schema, write_statistics=False)
            elif not table.schema.equals(self._schema):
                self._stopped = True
                return
            self._writer.write_table(table)
        except (pa.ArrowException, OSError):
            self._stopped = True
            raise _unwritable(self.path) from None

    def close(self) -> bool:
        """Finishes the file; True when it holds every slice written."""
        import pyarrow as pa

        try:
            if self._writer is not None:
                self._writer.close()
        except (pa.ArrowException, OSError):
            raise _unwritable(self.path) from None
        return self._writer is not None and not self._stopped


def _unwritable(path: str) -> FileProblem:
    return FileProblem(f"impossible d'écrire {path}", "vérifiez le dossier et les droits d'écriture")


def _csv_cell(text: str, delimiter: str) -> str:
    if any(c in text for c in (delimiter, '"', "\n", "\r")):
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv_column(column: Any) -> Any:
    """Booleans as `oui`/`non` in a CSV file (the spelling of the rule files); dictionaries as text."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_boolean(column.type):
        return pc.if_else(column, "oui", "non")
    if pa.types.is_dictionary(column.type):
        return column.cast(column.type.value_type)
    return column
