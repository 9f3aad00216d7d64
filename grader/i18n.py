"""[parent, test process] The language of every text a person reads: gettext, English source.

Messages are written in English in the code and marked with `_()` (or
`N_()` where a constant is defined before a language is chosen, and
`ngettext()` where a count picks the form); the Russian text lives in
`grader/locale/ru/LC_MESSAGES/grader.po`. The catalog is compiled in
memory by Babel when first used, so the repository holds no binary .mo and
an installed wheel needs no build step. `tests/test_i18n.py` fails when a
message exists in one language only.

The language is chosen once per process (`use`): `--lang`, else the
`GRADER_LANG` variable, else the course's language (Russian).
"""

from __future__ import annotations

import gettext
import io
import os
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES = ("ru", "en")
COURSE_LANGUAGE = "ru"  # the lecture, its statements and stubs are Russian
ENV = "GRADER_LANG"
DOMAIN = "grader"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

_current: gettext.NullTranslations = gettext.NullTranslations()
_language = "en"


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: str) -> gettext.NullTranslations:
    """`language`'s catalog, compiled from its .po; English is the source and needs none."""
    path = po_path(language)
    if language == "en" or not path.is_file():
        return gettext.NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def chosen(explicit: str | None = None) -> str:
    """The language to speak: the option, else GRADER_LANG, else the course's."""
    for candidate in (explicit, os.environ.get(ENV), COURSE_LANGUAGE):
        if candidate and candidate.split("_")[0].lower() in LANGUAGES:
            return candidate.split("_")[0].lower()
    return COURSE_LANGUAGE


def use(language: str | None = None) -> str:
    """Speak `language` (or the default) from now on in this process; returns it."""
    global _current, _language
    _language = chosen(language)
    _current = translations(_language)
    return _language


def language() -> str:
    return _language


def _(message: str) -> str:
    """`message` in the chosen language."""
    return _current.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a counted message that fits `n`, in the chosen language."""
    return _current.ngettext(singular, plural, n)


def first_line(doc: str) -> str:
    """A test's title: the first line of its docstring (also what the extractor takes)."""
    lines = doc.strip().splitlines()
    return lines[0].strip() if lines else ""


def N_(message: str) -> str:
    """Mark `message` for translation where it is defined; `_()` translates it where used."""
    return message
