"""The user documentation (`docs/`) says what the code does.

* every ```tarif block that is a complete file (it starts with `délibération` and has
  articles: a header shown alone is not a file) loads and its worked examples pass;
* every diagnostic code used in the source has its section in `docs/erreurs.md`;
* every command of the CLI (and each of its options) is described in `docs/cli.md`;
* the terminal sessions (```console blocks: `$ tarifrules …` then its output, and
  `$ echo $?`) print exactly what the docs show, and the Python sessions (```pycon
  blocks) pass as doctests: the docs never drift from the code.

Sessions of a page run in order in a fresh folder where `examples/` is the project's
example folder. HTML comments prepare that folder:
`<!-- fichier: NOM -->` just before a block writes that block to NOM;
`<!-- extrait: NOM -->` checks that the next block appears in NOM as it is at that point
(or, if NOM is written later in the page, as it is then);
`<!-- remplacer: NOM | ANCIEN | NOUVEAU -->` edits NOM (ANCIEN occurs exactly once; `\\n`
is a line break, `\\uXXXX` a character the reader could not see); a comment
`<!-- fichier: NOM [encodage=latin-1]` running over several lines up to a line `-->` writes
its lines to NOM, unseen by the reader (the wrong files of `erreurs.md`).

`python -m pytest tests/test_docs.py --update-golden` (or `UPDATE_GOLDEN=1`) rewrites
the outputs of the ```console blocks from a real run: read the diff before committing.
"""

from __future__ import annotations

import contextlib
import doctest
import glob
import io
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import tarifrules
from tarifrules.cli import all_commands, main
from tarifrules.examples import run_examples

from .helpers import ROOT, update_golden

DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
SOURCE = ROOT / "src" / "tarifrules"


# ------------------------------------------------------------------ reading the pages


@dataclass
class Block:
    page: Path
    lang: str
    text: str
    line: int  # line of the opening fence (1-based)
    end: int  # line of the closing fence
    directives: list[tuple[str, str]] = field(default_factory=list)


_DIRECTIVE = re.compile(r"^<!--\s*(fichier|extrait|remplacer)\s*:\s*(.*?)\s*-->\s*$")
_HIDDEN_FILE = re.compile(r"^<!--\s*fichier\s*:\s*(\S+)\s*(?:encodage=(\S+))?\s*$")
HIDDEN = "(fichier caché)"


def blocks(page: Path) -> list[Block]:
    """Fenced blocks of a page, each with the directives written just before it.

    A comment `<!-- fichier: NOM [encodage=…]` whose text runs to a line `-->` is a file
    the reader does not see (a wrong file for an error message): it becomes a block of
    language HIDDEN, written to NOM when its turn comes.
    """
    lines = page.read_text(encoding="utf-8").split("\n")
    found: list[Block] = []
    pending: list[tuple[str, str]] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        directive = _DIRECTIVE.match(line)
        hidden = _HIDDEN_FILE.match(line)
        if directive:
            pending.append((directive.group(1), directive.group(2)))
        elif hidden:
            start = index
            index += 1
            body = []
            while index < len(lines) and lines[index] != "-->":
                body.append(lines[index])
                index += 1
            text = "\n".join(body) + "\n" if body else ""
            found.append(Block(page, HIDDEN, text, start + 1, index + 1,
                               [("fichier", hidden.group(1)), ("encodage", hidden.group(2) or "utf-8")]))
        elif line.startswith("```"):
            lang = line[3:].strip()
            start = index
            index += 1
            body = []
            while index < len(lines) and not lines[index].startswith("```"):
                body.append(lines[index])
                index += 1
            text = "\n".join(body) + "\n"
            found.append(Block(page, lang, text, start + 1, index + 1, pending))
            pending = []
        index += 1
    return found


def all_blocks() -> Iterator[Block]:
    for page in PAGES:
        yield from blocks(page)


def _id(block: Block) -> str:
    return f"{block.page.name}:{block.line}"


def is_complete_file(block: Block) -> bool:
    """A whole rule file: it starts with `délibération` and has articles (not the header alone)."""
    return (block.lang == "tarif" and block.text.startswith("délibération")
            and re.search(r"^article ", block.text, re.M) is not None)


COMPLETE_FILES = [b for b in all_blocks() if is_complete_file(b)]


# ------------------------------------------------------------------ 1. complete files in the docs


def test_the_docs_exist() -> None:
    names = {page.name for page in PAGES}
    assert {"index.md", "tutoriel.md", "langage.md", "erreurs.md", "contrat-json.md", "cli.md"} <= names
    assert COMPLETE_FILES, "aucun fichier .tarif complet dans docs/"


@pytest.mark.parametrize("block", COMPLETE_FILES, ids=_id)
def test_complete_tarif_blocks_load_and_their_examples_pass(block: Block) -> None:
    rules = tarifrules.load(block.text, file=_id(block))
    failures = [d.message for result in run_examples(rules) for d in result.failures]
    assert not failures, failures


# ------------------------------------------------------------------ 2. diagnostic codes


def source_codes() -> set[str]:
    codes: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        codes |= set(re.findall(r"\"([A-Z][0-9]{3})\"", path.read_text(encoding="utf-8")))
    return codes


def test_every_diagnostic_code_is_documented() -> None:
    codes = source_codes()
    assert len(codes) > 40
    errors_page = (DOCS / "erreurs.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^#+ .*?\b([A-Z][0-9]{3})\b", errors_page, re.M))
    assert not codes - documented, f"codes sans section dans docs/erreurs.md : {sorted(codes - documented)}"
    assert not documented - codes, f"codes documentés qui n'existent plus : {sorted(documented - codes)}"


# ------------------------------------------------------------------ 3. CLI commands


def test_every_cli_command_and_option_is_documented() -> None:
    page = (DOCS / "cli.md").read_text(encoding="utf-8")
    for name, command in all_commands().items():
        assert re.search(rf"^#+ .*`tarifrules {name}\b", page, re.M), f"pas de section pour « tarifrules {name} »"
        for parameter in command.params:
            for option in parameter.opts:
                if option.startswith("--") and option != "--help":
                    assert option in page, f"option {option} de « {name} » absente de docs/cli.md"
    for code in ("0", "1", "2", "70"):
        assert re.search(rf"^\| *`?{code}`? *\|", page, re.M), f"code de sortie {code} absent du tableau"


def slug(title: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", title.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def test_links_between_pages_resolve() -> None:
    anchors = {page.name: {slug(h) for h in re.findall(r"^#+ (.*)$", page.read_text(encoding="utf-8"), re.M)}
               for page in PAGES}
    for page in PAGES:
        for target, anchor in re.findall(r"\]\(([^)#:]*?)(?:#([^)]*))?\)", page.read_text(encoding="utf-8")):
            name = target or page.name
            if not name.endswith(".md"):
                continue
            assert (page.parent / name).exists(), f"{page.name} : lien mort vers {name}"
            if anchor and (page.parent / name).parent == DOCS:
                assert anchor in anchors[Path(name).name], f"{page.name} : ancre absente {name}#{anchor}"


# ------------------------------------------------------------------ 4. sessions


def run_cli(argv: list[str]) -> tuple[str, int]:
    """Run the CLI in this process, stdout and stderr interleaved as in a terminal."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
        try:
            main(argv)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return buffer.getvalue(), code


def _clean(output: str) -> str:
    return "\n".join(line.rstrip() for line in output.rstrip("\n").split("\n")).strip("\n")


def _expand(word: str) -> list[str]:
    """A shell pattern (`a-corriger/*.tarif`) becomes the files it names, as in a shell."""
    if any(c in word for c in "*?["):
        return sorted(glob.glob(word)) or [word]
    return [word]


def run_session(text: str, where: str) -> list[tuple[str, str, str]]:
    """(command, expected output, actual output) for each `$ …` line of a console block."""
    steps: list[tuple[str, list[str]]] = []
    for line in text.rstrip("\n").split("\n"):
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            assert steps, f"{where} : un bloc console commence par « $ commande »"
            steps[-1][1].append(line)
    results = []
    last_code = 0
    for command, expected in steps:
        words = shlex.split(command)
        if words == ["echo", "$?"]:
            actual = str(last_code)
        else:
            assert words[0] == "tarifrules", f"{where} : seules les commandes tarifrules sont exécutées ({command})"
            argv = [expanded for word in words[1:] for expanded in _expand(word)]
            actual, last_code = run_cli(argv)
        results.append((command, _clean("\n".join(expected)), _clean(actual)))
    return results


def _unescape(text: str) -> str:
    """`\\n` and `\\u202e` in a directive: a line break, a character that does not show."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m[1], 16)), text.replace("\\n", "\n"))


def _apply_directives(block: Block, where: str, pending: dict[str, list[tuple[str, str]]]) -> None:
    encoding = dict(block.directives).get("encodage", "utf-8")
    for kind, argument in block.directives:
        if kind == "fichier":
            Path(argument).write_text(block.text, encoding=encoding)
            for text, origin in pending.pop(argument, []):
                assert text in block.text, f"{origin} : ce bloc n'apparaît pas tel quel dans {argument}"
        elif kind == "extrait":
            if Path(argument).exists():
                content = Path(argument).read_text(encoding="utf-8")
                assert block.text in content, f"{where} : ce bloc n'apparaît pas tel quel dans {argument}"
            else:  # an excerpt shown before the whole file: checked when the file is written
                pending.setdefault(argument, []).append((block.text, where))
        elif kind == "remplacer":
            name, old, new = (_unescape(part.strip()) for part in argument.split("|"))
            content = Path(name).read_text(encoding="utf-8")
            assert content.count(old) == 1, f"{where} : « {old} » doit apparaître une fois dans {name}"
            Path(name).write_text(content.replace(old, new), encoding="utf-8")


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "examples").symlink_to(ROOT / "examples", target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "80")
    return tmp_path


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_sessions_print_what_the_docs_show(page: Path, workdir: Path) -> None:
    page_blocks = blocks(page)
    globs: dict[str, object] = {}
    problems: list[str] = []
    fresh: dict[int, list[str]] = {}  # opening line of a console block -> its real session
    pending: dict[str, list[tuple[str, str]]] = {}
    for block in page_blocks:
        where = _id(block)
        _apply_directives(block, where, pending)
        if block.lang == "console":
            results = run_session(block.text, where)
            fresh[block.line] = [line for command, _, actual in results
                                 for line in [f"$ {command}", *(actual.split("\n") if actual else [])]]
            for command, expected, actual in results:
                if expected != actual:
                    problems.append(f"{where} : $ {command}\n--- attendu (docs)\n{expected}\n--- obtenu\n{actual}")
        elif block.lang == "pycon":
            problems += _doctest(block, globs)
    problems += [f"{origin} : extrait d'un fichier {name} jamais écrit" for name, items in pending.items()
                 for _, origin in items]
    if update_golden():
        lines = page.read_text(encoding="utf-8").split("\n")
        for block in reversed(page_blocks):
            if block.line in fresh:
                lines[block.line: block.end - 1] = fresh[block.line]
        page.write_text("\n".join(lines), encoding="utf-8")
        return
    assert not problems, "\n\n".join(problems)


def _doctest(block: Block, globs: dict[str, object]) -> list[str]:
    parser = doctest.DocTestParser()
    test = parser.get_doctest(block.text, globs, _id(block), str(block.page), block.line)
    report = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test, out=report.write, clear_globs=False)
    globs.update(test.globs)  # the next block of the page continues this session
    return [report.getvalue()] if runner.failures else []


def test_code_blocks_say_their_language() -> None:
    """Every block is a rule file, a session, a situation, or plain text that says so."""
    allowed = {"tarif", "console", "pycon", "json", "yaml", "text", HIDDEN}
    for block in all_blocks():
        assert block.lang in allowed, f"{_id(block)} : bloc sans langage ou de langage inconnu « {block.lang} »"
