"""Every word on the staff pages is translatable and translated.

Three checks that can each fail: text written in a template outside {% trans %} or _()
(and messages in the admin's Python not passed through gettext), a catalog that is behind
the templates (extracted now, compared with the committed .pot and the Spanish .po), and a
compiled .mo that does not match its .po.
"""

from __future__ import annotations

import ast
import re
from html.parser import HTMLParser
from pathlib import Path

import jinja2
import pytest
from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[3]
ADMIN = ROOT / "bot" / "admin"
TEMPLATES = ADMIN / "templates"
LOCALE = ADMIN / "locale"
# Attributes a person reads or hears (screen readers); other attributes hold codes and URLs.
READ_ATTRIBUTES = frozenset({"title", "placeholder", "aria-label", "alt", "data-label"})
WORD = re.compile(r"[^\W\d_]{2,}")  # two letters in a row: words, not "·" or "(" or "%"


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script"):
            self._skip += 1
        for name, value in attrs:
            if name in READ_ATTRIBUTES and value and WORD.search(value):
                self.found.append(f'{tag}[{name}="{value}"]')

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and WORD.search(data):
            self.found.append(data.strip())


def bare_text(source: str) -> list[str]:
    """Readable text in a template that gettext never sees."""
    env = jinja2.Environment(extensions=["jinja2.ext.i18n"])
    outside: list[str] = []
    in_trans = False
    previous = ""
    for _line, kind, value in env.lex(source):
        if kind == "name" and previous == "block_begin":
            if value == "trans":
                in_trans = True
            elif value == "endtrans":
                in_trans = False
        if kind == "data" and not in_trans:
            outside.append(value)
        if kind not in ("whitespace",):
            previous = kind
    parser = _Text()
    parser.feed("".join(outside))
    parser.close()
    return parser.found


def test_the_bare_text_check_finds_what_it_should() -> None:
    assert bare_text("<p>Hello there</p>") == ["Hello there"]
    assert bare_text('<select aria-label="intent"></select>') == ['select[aria-label="intent"]']
    assert bare_text("<td>{{ x }}</td><td>Missing</td>") == ["Missing"]
    assert bare_text("<p>{% trans %}Hello there{% endtrans %}</p>") == []
    assert bare_text("<p>{{ _('Hello') }} · {{ n }} %</p>") == []
    assert bare_text('<input aria-label="{{ _(\'Topic\') }}"><style>a { color: red }</style>') == []


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_no_bare_text_in_templates(template: str) -> None:
    assert bare_text((TEMPLATES / template).read_text(encoding="utf-8")) == []


def _literal_messages(path: Path) -> list[str]:
    """Error texts built from plain string literals in HTTPException(...) and Forbidden(...)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("HTTPException", "Forbidden")
        ):
            for arg in node.args:
                if isinstance(arg, ast.JoinedStr) or (
                    isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                ):
                    found.append(f"{path.name}:{node.lineno}")
    return found


def test_admin_error_messages_go_through_gettext() -> None:
    assert [m for p in sorted(ADMIN.glob("*.py")) for m in _literal_messages(p)] == []


def _read_po(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


def _ids(catalog: Catalog) -> set[str]:
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """What the templates and the admin's Python ask to translate now (as `make translations`)."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", "-F", str(ADMIN / "babel.cfg"), "-k", "N_",
         "--no-location", "-o", str(pot), str(ROOT)]
    )  # fmt: skip
    return _read_po(pot)


def test_the_template_catalog_is_current(extracted: Catalog) -> None:
    committed = _read_po(LOCALE / "messages.pot")
    assert _ids(extracted) - _ids(committed) == set(), "run `make translations`"
    assert _ids(committed) - _ids(extracted) == set(), "run `make translations`"


def test_every_message_has_a_spanish_translation(extracted: Catalog) -> None:
    spanish = _read_po(LOCALE / "es" / "LC_MESSAGES" / "messages.po")
    assert _ids(extracted) - _ids(spanish) == set(), "run `make translations`, then translate"
    untranslated = []
    for message in spanish:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(s.strip() for s in strings):
            untranslated.append(message.id)
    assert untranslated == []


def test_the_compiled_catalog_matches_its_source() -> None:
    source = _read_po(LOCALE / "es" / "LC_MESSAGES" / "messages.po")
    with (LOCALE / "es" / "LC_MESSAGES" / "messages.mo").open("rb") as handle:
        compiled = read_mo(handle)
    assert _pairs(compiled) == _pairs(source), "run `make translations` to compile the .mo"


def _pairs(catalog: Catalog) -> dict[object, object]:
    def plain(value: object) -> object:
        return tuple(value) if isinstance(value, list | tuple) else value

    return {plain(m.id): plain(m.string) for m in catalog if m.id}
