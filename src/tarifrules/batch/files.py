"""Population files: CSV or Parquet in, CSV or Parquet out (chosen by the extension).

A CSV file is read with every column as text, so that a cell means for `batch` exactly
what it means in a situation (`650`, `650,50`, `oui`, empty = unknown). Its separator —
`;`, `,` or a tab — is the one the header line holds most of (outside quotes), and is kept
for the output file; spaces around the header's names are not part of the names. A row
with too few or too many fields, or an open quote, is set aside with its line number
(`Population.unreadable`): the other rows are read, and numbered as in the file.

Results are never written under their final name: `OutputFile` writes a temporary file
in the same folder, and only a complete, `fsync`ed file is renamed (`os.replace`) to it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from ..files import not_a_regular_file

FORMATS = (".csv", ".parquet")
SEPARATORS = {";": "point-virgule", ",": "virgule", "\t": "tabulation"}


class FileProblem(Exception):
    """A population file that cannot be read or written (French message and hint)."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message, self.hint = message, hint


@dataclass(frozen=True)
class Population:
    """The table read, and how to number its rows for people: `first_line` is the first data row's
    line, `lines` the line of each row when they do not follow each other (rows set aside, values
    over several lines). `unreadable`: (line, why) of the rows that could not be read."""

    table: Any
    first_line: int
    delimiter: str | None = None  # a CSV file's separator
    lines: npt.NDArray[np.int64] | None = None
    unreadable: tuple[tuple[int, str], ...] = ()


def file_format(path: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise FileProblem(f"format de fichier non reconnu : {path}",
                          "donnez un fichier .csv ou .parquet (le format se lit à l'extension)")
    return suffix


def same_file(first: str, second: str) -> bool:
    """Whether two paths name one file: the same inode when both exist (a symbolic or hard link
    is the file itself), else the same resolved path."""
    try:
        a, b = os.stat(first), os.stat(second)
    except OSError:
        return os.path.realpath(first) == os.path.realpath(second)
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def read_population(path: str) -> Population:
    import pyarrow as pa

    suffix = file_format(path)
    refused = not_a_regular_file(path)  # (a FIFO would block the reader, /dev/zero never end)
    if refused is not None:
        raise FileProblem(f"{refused.message} : {path}", refused.hint)
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            table = pq.ParquetFile(path).read()  # (read_table would import pyarrow.dataset)
            names = [name.strip() for name in table.column_names]
            _distinct_names(names, path)
            return Population(table.rename_columns(names), 1)
        return _read_csv(path)
    except (pa.ArrowException, OSError, UnicodeDecodeError):
        raise FileProblem(f"fichier illisible : {path}",
                          "un fichier CSV en UTF-8 avec une ligne d'en-tête, ou un fichier Parquet, est attendu"
                          ) from None


def _distinct_names(names: list[str], path: str) -> None:
    twice = sorted({name for name in names if name and names.count(name) > 1})  # (columns without a name: kept)
    if twice:
        raise FileProblem(f"{path} : colonne(s) en double : " + ", ".join(f"« {name} »" for name in twice),
                          "chaque colonne doit avoir un nom à elle : renommez ou retirez les doublons")


def separator(header: str) -> str:
    """The separator a header line holds most of outside quotes (`,` when none: one column)."""
    outside = header.split('"')[::2]
    counts = {sep: sum(part.count(sep) for part in outside) for sep in (";", ",", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def _read_csv(path: str) -> Population:
    import csv as pycsv

    import pyarrow as pa
    import pyarrow.csv as csv

    with open(path, encoding="utf-8-sig", newline="") as file:  # (-sig: a spreadsheet's byte order mark)
        header = file.readline()
    delimiter = separator(header)
    names = [name.strip() for name in next(pycsv.reader([header.rstrip("\r\n")], delimiter=delimiter), [])]
    _distinct_names(names, path)
    if not names or names == [""]:
        raise FileProblem(f"{path} : la première ligne est vide", "la première ligne d'un CSV nomme ses colonnes")
    bad_rows: list[Any] = []

    def set_aside(row: Any) -> str:  # (called for bad rows only: no cost for a clean file)
        bad_rows.append(row)
        return "skip"

    try:
        table = csv.read_csv(
            path,
            read_options=csv.ReadOptions(column_names=names, skip_rows=1),
            parse_options=csv.ParseOptions(delimiter=delimiter, invalid_row_handler=set_aside),
            convert_options=csv.ConvertOptions(column_types=dict.fromkeys(names, pa.string())),
        )
    except pa.ArrowInvalid:  # a quote still open at the end of the file, a value over several lines…
        bad_rows.append(None)
    if bad_rows or _physical_lines(path) != table.num_rows + 1:
        # pyarrow does not say on which line a bad row is, nor where rows are not one per line (a value
        # over several lines, empty lines): the file is read again, row by row, to number them
        return _read_csv_by_rows(path, names, delimiter)
    return Population(table, 2, delimiter)


def _physical_lines(path: str) -> int:
    """The lines of a file up to its last non-empty one (a last line without its end of line counts)."""
    lines, last = 0, b"\n"
    with open(path, "rb") as file:
        while chunk := file.read(1 << 24):
            lines += chunk.count(b"\n")
            last = chunk
    ending = last[len(last.rstrip(b"\r\n")):]  # the file's last end of line, and empty lines after it
    return lines + (not ending) - max(0, ending.count(b"\n") - 1)


def _read_csv_by_rows(path: str, names: list[str], delimiter: str) -> Population:
    """A CSV file with bad rows, read with the line of each row. A row whose fields are not one per
    column is set aside; one that runs over several lines and still has not the right number of
    fields opened a quote that it never closed: it is set aside alone, and reading starts again
    on the next line."""
    import csv as pycsv
    import itertools

    import pyarrow as pa

    with open(path, encoding="utf-8", newline="") as file:
        lines = file.readlines()
    width = len(names)
    columns: list[list[str]] = [[] for _ in names]
    numbers: list[int] = []
    unreadable: list[tuple[int, str]] = []
    start = 1  # index in `lines` where the current reader starts (line 1 is the header)
    while start < len(lines):
        # strict: a quote never closed before the end of the file is an error, not a last cell that
        # swallows every line after it (households lost without a word)
        reader = pycsv.reader(itertools.islice(lines, start, None), delimiter=delimiter, strict=True)
        first = start
        restart = None
        try:
            for record in reader:
                line, last = first + 1, start + reader.line_num
                first = last
                if not record:  # an empty line, skipped as when the file is read at once
                    continue
                if len(record) == width:
                    for column, cell in zip(columns, record, strict=True):
                        column.append(cell)
                    numbers.append(line)
                elif last > line:
                    unreadable.append((line, "guillemet ouvert et jamais refermé sur la ligne : ligne non lue"))
                    restart = line  # (index of the line after `line`)
                    break
                else:
                    unreadable.append((line, f"{len(record)} champ(s) au lieu de {width} : ligne non lue"))
        except pycsv.Error as exc:
            unclosed = "end of data" in str(exc) or "newline inside string" in str(exc)
            unreadable.append((first + 1, "guillemet ouvert et jamais refermé : ligne non lue" if unclosed
                               else "ligne illisible en CSV : ligne non lue"))
            restart = first + 1
        if restart is None:
            break
        start = restart
    table = pa.table([pa.array(column, type=pa.string()) for column in columns], names=names)
    return Population(table, 2, delimiter, np.array(numbers, dtype=np.int64), tuple(unreadable))


class OutputFile:
    """A results file written under a temporary name in its folder, renamed to `path` once complete.

    `file` (a binary file) or `native()` (an Arrow file, opened by the calling thread) write the
    temporary file; `commit` flushes it to the disk (`fsync`) and renames it over `path`; `discard`
    removes it. Until `commit`, a file already under `path` is left as it was. Writing threads
    get an open file, never the name: once discarded, nothing can make the file again."""

    def __init__(self, path: str):
        self.path = os.path.realpath(path)  # (a symbolic link: its target gets the results)
        self.shown = path
        folder, name = os.path.split(self.path)
        if os.path.exists(self.path) and not os.access(self.path, os.W_OK):  # (a rename would ignore it)
            raise unwritable(path, PermissionError(errno.EACCES, "protégé en écriture"))
        try:
            mode = os.stat(self.path).st_mode & 0o777
        except OSError:
            mask = os.umask(0)
            os.umask(mask)
            mode = 0o666 & ~mask
        try:
            descriptor, self.temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".partiel", dir=folder or ".")
        except OSError as exc:
            raise unwritable(path, exc) from None
        self.file: IO[bytes] = os.fdopen(descriptor, "wb")
        self._natives: list[Any] = []
        self.committed = False
        if hasattr(os, "fchmod"):  # the permissions a file written in place would have had
            with contextlib.suppress(OSError):
                os.fchmod(descriptor, mode)

    def native(self) -> Any:
        """An Arrow output file on the temporary file, from its start (what was written is dropped)."""
        import pyarrow as pa

        try:
            sink = pa.OSFile(self.temporary, "wb")
        except (pa.ArrowException, OSError) as exc:
            raise unwritable(self.shown, exc) from None
        self._natives.append(sink)
        return sink

    def commit(self) -> None:
        """The temporary file, complete, on the disk and under the final name."""
        try:
            for sink in self._natives:
                if not sink.closed:
                    sink.close()
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
            os.replace(self.temporary, self.path)
        except OSError as exc:
            self.discard()
            raise unwritable(self.shown, exc) from None
        self.committed = True
        with contextlib.suppress(OSError):  # the rename itself on the disk
            folder = os.open(os.path.dirname(self.path) or ".", os.O_RDONLY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)

    def discard(self) -> None:
        """No temporary file left (whatever has been written); the final name untouched."""
        if self.committed:
            return
        for handle in [*self._natives, self.file]:
            with contextlib.suppress(Exception):
                handle.close()
        with contextlib.suppress(OSError):
            os.unlink(self.temporary)


def write_population(table: Any, output: OutputFile, delimiter: str | None = None) -> None:
    """Writes the whole table into `output` (not committed: the caller does)."""
    import pyarrow as pa

    try:
        if file_format(output.path) == ".parquet":
            import pyarrow.parquet as pq

            sink = output.native()
            pq.write_table(table, sink, write_statistics=False)  # statistics double the writing time
            sink.close()
            return
        import pyarrow.csv as csv

        delimiter = delimiter or ","
        columns = pa.table([_csv_column(table.column(i)) for i in range(table.num_columns)],
                           names=table.column_names)
        header = delimiter.join(_csv_cell(name, delimiter) for name in table.column_names) + "\n"
        file = output.file
        for style in ("none", "needed"):  # plain cells as people write them; quotes only if a cell needs them
            try:
                file.seek(0)
                file.truncate()
                file.write(header.encode("utf-8"))
                csv.write_csv(columns, file, write_options=csv.WriteOptions(
                    delimiter=delimiter, quoting_style=style, include_header=False))
                return
            except pa.ArrowInvalid:
                continue
    except (pa.ArrowException, OSError) as exc:
        raise unwritable(output.shown, exc) from None


class ParquetStream:
    """A Parquet results file written slice by slice, one row group each (`write` in a worker thread,
    while the caller computes the next slice).

    Every slice must have the columns of the first one. A slice whose types differ (amounts with
    more decimal places, met only by rows evaluated one by one) stops the stream: `close` then
    says the file is not complete, and the caller writes the whole table at once."""

    def __init__(self, output: OutputFile):
        self.output = output
        self._sink = output.native()  # (opened here, by the thread that may discard the file)
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
                self._writer = pq.ParquetWriter(self._sink, table.schema, write_statistics=False)
            elif not table.schema.equals(self._schema):
                self._stopped = True
                return
            self._writer.write_table(table)
        except (pa.ArrowException, OSError) as exc:
            self._stopped = True
            raise unwritable(self.output.shown, exc) from None

    def close(self) -> bool:
        """Finishes the file; True when it holds every slice written."""
        import pyarrow as pa

        try:
            if self._writer is not None:
                self._writer.close()
            self._sink.close()
        except (pa.ArrowException, OSError) as exc:
            raise unwritable(self.output.shown, exc) from None
        return self._writer is not None and not self._stopped


def unwritable(path: str, error: BaseException | None = None) -> FileProblem:
    """Why the results could not be written (nothing is left under their name)."""
    full = error is not None and (getattr(error, "errno", None) == errno.ENOSPC or "No space left" in str(error))
    left = ("aucun fichier de résultats écrit ; le fichier qui portait déjà ce nom est inchangé"
            if os.path.lexists(path) else "aucun fichier écrit sous ce nom")
    if full:
        return FileProblem(f"impossible d'écrire {path} : le disque est plein ; {left}",
                           "libérez de la place sur le disque, ou écrivez les résultats sur un autre disque")
    return FileProblem(f"impossible d'écrire {path} : {left}", "vérifiez le dossier et les droits d'écriture")


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
