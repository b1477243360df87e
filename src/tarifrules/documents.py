"""JSON and YAML documents from callers (situations, identity files, service requests): read as data.

One reading for every entry point, so that a number means the same thing wherever it comes
from:

* JSON numbers are exact (`Decimal` for a fraction or an exponent, `int` for a short whole
  number, `Decimal` for a long one: Python's `int()` refuses more than 4 300 digits);
  `NaN` and `Infinity` are refused. How large a number may be is the situation reader's
  rule (`situation.py`, D008), the same for a number written as text.
* YAML scalars are text, except `null`/`~`/nothing (unknown): YAML 1.1 reads `0750` as
  octal 488, `1:05:00` as 3 900, `6_50` and `0x28A` as 650, `yes` as a boolean — the
  situation reader converts the text exactly as it converts `--set nom=valeur`. Tags
  (`!!int`, `!!python/…`) build nothing: the text stays text.
* A key given twice is an error naming it (the last value would silently win); an object
  has at most `MAX_KEYS` keys and nesting is at most `MAX_DEPTH` deep (a situation is
  flat: deeper nesting is a mistake or an attack on the parser's recursion).

Every refusal is a `DocumentError` with a French message (and a line when known).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

MAX_DEPTH = 64
MAX_KEYS = 10_000
_SHORT_INTEGER = 40  # digits: `int()` beyond is slower and stops at 4 300 (then it is a Decimal)


class DocumentError(Exception):
    """A document refused: French `message`, `line` (1-based) when known."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message, self.line = message, line


def _key(key: object) -> str:
    text = str(key)
    return text if len(text) <= 40 else f"{text[:40]}…"


def _duplicate(key: object) -> DocumentError:
    return DocumentError(f"la clé « {_key(key)} » est donnée deux fois (une seule valeur par clé)")


def _too_many_keys() -> DocumentError:
    return DocumentError(f"un objet a plus de {MAX_KEYS:_} clés".replace("_", "\u202f"))


def _too_deep() -> DocumentError:
    return DocumentError(f"imbrication trop profonde (plus de {MAX_DEPTH} niveaux)")


# ------------------------------------------------------------------ JSON


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    if len(pairs) > MAX_KEYS:
        raise _too_many_keys()
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _duplicate(key)
            seen.add(key)
    return result


def _integer(text: str) -> int | Decimal:
    return int(text) if len(text) <= _SHORT_INTEGER else Decimal(text)


def _no_constant(name: str) -> Any:
    raise DocumentError(f"« {name} » n'est pas un nombre JSON : écrivez un nombre en chiffres")


# A string, closed or not (an unclosed one runs to the end: the scan stays linear, the parser
# reports the syntax error), in the unrolled form that does not backtrack.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def _check_json_depth(text: str) -> None:
    """Refuse nesting deeper than `MAX_DEPTH` before parsing (the parser recurses once per level)."""
    depth = 0
    for bracket in _BRACKET.findall(_JSON_STRING.sub("", text)):
        if bracket in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise _too_deep()
        else:
            depth -= 1


def load_json(text: str, *, parse_float: Callable[[str], Any] = Decimal,
              parse_int: Callable[[str], Any] = _integer) -> Any:
    """A JSON document with exact numbers; `json.JSONDecodeError` for bad syntax (it says where),
    `DocumentError` for what is refused here."""
    _check_json_depth(text)
    try:
        return json.loads(text, parse_float=parse_float, parse_int=parse_int, parse_constant=_no_constant,
                          object_pairs_hook=_object)
    except RecursionError:  # pragma: no cover - the depth check comes first
        raise _too_deep() from None


# ------------------------------------------------------------------ YAML


def _yaml_loader() -> type:
    """A YAML loader building only text, lists, mappings and `None` (built once, on first use)."""
    import yaml
    from yaml.constructor import BaseConstructor, ConstructorError
    from yaml.resolver import BaseResolver

    class _Resolver(BaseResolver):
        pass

    _Resolver.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"),
                                    ["~", "n", "N", ""])

    class _Constructor(BaseConstructor):
        def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
            if not isinstance(node, yaml.MappingNode):
                raise ConstructorError(None, None, "une liste de clés est attendue", node.start_mark)
            if len(node.value) > MAX_KEYS:
                raise _too_many_keys()
            mapping: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise DocumentError("une clé doit être un nom, pas une liste ni un objet",
                                        key_node.start_mark.line + 1)
                key = str(key_node.value)
                if key in mapping:
                    error = _duplicate(key)
                    error.line = key_node.start_mark.line + 1
                    raise error
                mapping[key] = self.construct_object(value_node, deep=deep)
            return mapping

    _Constructor.add_constructor("tag:yaml.org,2002:null", lambda loader, node: None)

    class _Loader(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, yaml.composer.Composer,
                  _Constructor, _Resolver):
        def __init__(self, stream: str):
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)
            _Constructor.__init__(self)
            _Resolver.__init__(self)
            self._depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            # counted while composing (the constructor would see them only once all are built)
            if isinstance(parent, yaml.MappingNode) and index is None and len(parent.value) >= MAX_KEYS:
                raise _too_many_keys()
            if isinstance(parent, yaml.SequenceNode) and isinstance(index, int) and index >= MAX_KEYS:
                raise DocumentError(f"une liste a plus de {MAX_KEYS:_} éléments".replace("_", "\u202f"))
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise _too_deep()
            try:
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1

    return _Loader


_LOADER: list[type] = []


def load_yaml(text: str) -> Any:
    """A YAML document whose scalars are text (or None); `yaml.YAMLError` for bad syntax."""
    import yaml

    if not _LOADER:
        _LOADER.append(_yaml_loader())
    loader = _LOADER[0](text)
    try:
        return loader.get_single_data()
    except RecursionError:  # pragma: no cover - the depth check comes first
        raise _too_deep() from None
    except yaml.MarkedYAMLError as exc:
        if isinstance(exc, yaml.constructor.ConstructorError):
            line = exc.problem_mark.line + 1 if exc.problem_mark else None
            raise DocumentError(f"structure YAML incorrecte ({exc.problem})", line) from None
        raise
    finally:
        loader.dispose()
