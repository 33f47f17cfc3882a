"""Translated text in templates, at the cost of a dictionary look-up.

Templates write `{{ _("Time") }}` (newstyle gettext: the translation is marked safe when autoescaping, then
formatted with its escaped variables, so a literal % is written %%). Jinja compiles every such call into
`Context.call` of an alias that calls the installed gettext through a second `Context.call`; a page of the access
log makes some 500 of them, a fifth of its rendering. Here:

- `_` and `gettext` are one `pass_eval_context` function with the same answers, and a message without variables
  is translated once per catalogue (cached);
- the `ConstantMessages` extension rewrites, as templates are compiled, each `_("literal")` with no variables
  into `_messages["literal"]`: an item look-up in a table that answers that same cached translation, with no call
  through the template context at all. Message extraction reads the template sources, so it still sees `_()`.

Every template of the environment is HTML and autoescaped (select_autoescape(["html"])): the table answers
Markup, exactly what the newstyle `_` answers there.

An environment bound to one language (`environment.message_language`, see frontend.rendering) goes one step
further: `_("literal")` becomes `("the translation"|safe)`, a constant Jinja folds into the template's own text
when it compiles it, so a page's fixed words cost nothing at all when it is rendered (a page of the access log
writes some 600 of them). The translation is the very same Markup the table answers.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from gettext import NullTranslations
from typing import Any

from jinja2 import Environment, pass_eval_context
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream
from jinja2.nodes import EvalContext
from markupsafe import Markup

from backend.core import i18n

TABLE_NAME = "_messages"


@functools.lru_cache(maxsize=8192)
def _constant_message(catalogue: NullTranslations, message: str) -> Markup:
    # Keyed by the catalogue i18n.gettext reads now (a new one whenever catalogues are loaded).
    # Translations are ours (the catalogues), trusted as Jinja's own newstyle gettext trusts them.
    return Markup(catalogue.gettext(message)) % {}  # noqa: S704


@pass_eval_context
def template_gettext(eval_context: EvalContext, message: str, **variables: Any) -> str:
    """`_()` in templates: translate, mark safe when autoescaping, then format with the (escaped) variables."""
    if eval_context.autoescape and not variables:
        return _constant_message(i18n.current_catalogue(), message)
    text = i18n.gettext(message)
    return (Markup(text) if eval_context.autoescape else text) % variables  # noqa: S704 (as above)


class ConstantMessageTable:
    """`_messages["…"]`: the message translated into the current language, marked safe (cached)."""

    def __getitem__(self, message: str) -> Markup:
        return _constant_message(i18n.current_catalogue(), message)


class ConstantMessages(Extension):
    """Compiles `_("literal")` (a single string, nothing else) as `_messages["literal"]`, or, in an environment
    bound to a language, as that language's translation marked safe (a constant)."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.extend(message_language=None)

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        """Rewrite the four tokens `_ ( "…" )` unless `_` is an attribute (`x._("…")`)."""
        tokens = list(stream)
        index = 0
        while index < len(tokens):
            token = tokens[index]
            window = tokens[index : index + 4]
            if (
                len(window) == 4
                and token.type == "name"
                and token.value == "_"
                and (index == 0 or tokens[index - 1].type != "dot")
                and [item.type for item in window[1:]] == ["lparen", "string", "rparen"]
            ):
                line = token.lineno
                language: i18n.Language | None = getattr(self.environment, "message_language", None)
                if language is None:
                    yield Token(line, "name", TABLE_NAME)
                    yield Token(line, "lbracket", "[")
                    yield window[2]
                    yield Token(line, "rbracket", "]")
                else:
                    translated = _constant_message(i18n.catalogue(language), window[2].value)
                    yield Token(line, "lparen", "(")
                    yield Token(line, "string", str(translated))
                    yield Token(line, "pipe", "|")
                    yield Token(line, "name", "safe")
                    yield Token(line, "rparen", ")")
                index += 4
                continue
            yield token
            index += 1


def install_template_messages(environment: Environment) -> None:
    """Replace the newstyle gettext callables' `_` and `gettext` (installed first) with the faster ones."""
    _constant_message.cache_clear()
    environment.globals["_"] = environment.globals["gettext"] = template_gettext
    environment.globals[TABLE_NAME] = ConstantMessageTable()
