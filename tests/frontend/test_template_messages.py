"""Fixed words in templates: compiled in per language, with the very same text as looked up at render time."""

from __future__ import annotations

import pytest
from jinja2 import Environment

from backend.core import i18n
from frontend.rendering import LOCALE_DIR, LanguageTemplateEngine, create_environment

# Constant messages as templates write them: alone, inside an expression, in an attribute, in a macro, one whose
# translation holds a literal % (written %% in the catalogue), and a message with a variable (translated when
# rendered, in every environment).
SOURCE = """
<p>{{ _("Time") }}</p>
<p>{{ missing or _("Not stated") }}</p>
<nav aria-label="{{ _('More entries') }}"></nav>
{% macro fact() %}<dt>{{ _("Outcome") }}</dt>{% endmacro %}{{ fact() }}
<p>{{ _("Every task works without JavaScript, with a keyboard only, and when the text is enlarged to 400%%.") }}</p>
<p>{{ _("Contested on %(date)s", date="<b>3 March</b>") }}</p>
"""


@pytest.fixture(autouse=True, scope="module")
def catalogs() -> None:
    i18n.load_catalogs(LOCALE_DIR)


def _render(environment: Environment, language: i18n.Language) -> str:
    i18n.set_language(language)
    try:
        return environment.from_string(SOURCE).render(missing=None)
    finally:
        i18n.set_language(i18n.DEFAULT_LANGUAGE)


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_a_template_compiled_for_a_language_writes_what_the_lookup_writes(language: i18n.Language) -> None:
    looked_up = _render(create_environment(), language)
    compiled_in = _render(create_environment(language=language), language)
    assert compiled_in == looked_up
    # The variable is escaped; the translation is not, and its %% is written once.
    assert "&lt;b&gt;3 March&lt;/b&gt;" in compiled_in
    assert "%%" not in compiled_in
    if language == "fr":
        assert "<p>Heure</p>" in compiled_in
        assert "agrandi à 400\N{NO-BREAK SPACE}%.</p>" in compiled_in
        assert "<p>Contesté le &lt;b&gt;3 March&lt;/b&gt;</p>" in compiled_in


def test_the_fixed_words_are_part_of_the_compiled_template() -> None:
    environment = create_environment(language="fr")
    code = str(environment.compile(SOURCE, raw=True))
    assert "_messages" not in code
    assert "<p>Heure</p>" in code
    assert "_messages" in str(create_environment().compile(SOURCE, raw=True))


def test_the_engine_renders_in_the_request_language() -> None:
    engine = LanguageTemplateEngine(auto_reload=False)
    pages = {}
    for language in i18n.LANGUAGES:
        i18n.set_language(language)
        pages[language] = engine.get_template("pages/accessibility-statement.html")
    i18n.set_language(i18n.DEFAULT_LANGUAGE)
    assert len({id(template) for template in pages.values()}) == 4
    assert {template.environment.message_language for template in pages.values()} == set(i18n.LANGUAGES)  # type: ignore[attr-defined]
