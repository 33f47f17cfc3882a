"""The Jinja2 environment and the one way pages are rendered.

Templates receive finished data; the layout gets the language, the switcher's choices and the asset helper
from here, so a page handler passes only what is its own.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from datetime import date
from pathlib import Path
from typing import Any, Final, ParamSpec, TypeVar
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2 import Template as JinjaTemplate
from jinja2 import TemplateNotFound as JinjaTemplateNotFound
from litestar import Request, Response
from litestar.exceptions import TemplateNotFoundException
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.template.base import TemplateCallableType
from litestar.template.config import TemplateConfig

from backend.core import i18n
from backend.core.auth.actors import SignedIn
from backend.core.errors import ProblemDetails
from frontend.assets import static_url
from frontend.output_escape import PageCodeGenerator
from frontend.template_messages import ConstantMessages, install_template_messages

P = ParamSpec("P")
T = TypeVar("T")

TEMPLATE_DIR: Final = Path(__file__).parent / "templates"
LOCALE_DIR: Final = Path(__file__).parent / "locale"


def isoformat(value: date) -> str:
    """`{{ moment|isoformat }}`: a date or datetime as ISO 8601 (for `<time datetime>` and anchors).

    A filter is a plain call in the compiled template; `{{ moment.isoformat() }}` goes through `Context.call`,
    which looks for context-passing markers first: a measurable share of a page that writes fifty times.
    """
    return value.isoformat()


class PageEnvironment(Environment):
    """Jinja's environment, writing values out without a Markup copy each (frontend.output_escape), and with each
    template's globals a plain dictionary rather than a ChainMap.

    Jinja layers a template's globals over the environment's in a ChainMap so that a template's own globals
    never leak into the environment. Ours have none, and every `{% from … import … %}` of a render compares
    the context's globals with the imported template's through that ChainMap, key by key in Python: 3 % of
    the access-log page's CPU. A copy taken when the template is loaded keeps both promises, since Jinja
    allows changing the environment's globals only before the first template is loaded.
    """

    code_generator_class = PageCodeGenerator

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        """The environment's globals with the template's own (if any) on top, as one dictionary."""
        return {**self.globals, **(d or {})}


def create_environment(*, auto_reload: bool = False, language: i18n.Language | None = None) -> Environment:
    """A strict, autoescaping environment with gettext bound to the current request's language.

    With a language, the templates' fixed words (`_("literal")`) are compiled in as that language's text: the
    environment then serves only requests in that language (`LanguageTemplateEngine`). Catalogues must be
    loaded first.
    """
    environment = PageEnvironment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n", ConstantMessages],
        trim_blocks=True,
        lstrip_blocks=True,
        # Checking every template file's mtime on each render costs ~10% of a page; only development edits them.
        auto_reload=auto_reload,
    )
    # Read by ConstantMessages as it compiles each template.
    environment.message_language = language  # type: ignore[attr-defined]
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext
    )
    # Same answers as the newstyle gettext just installed, at the cost of a dictionary look-up for constant text.
    install_template_messages(environment)
    environment.filters["isoformat"] = isoformat
    environment.globals["static_url"] = static_url
    environment.globals["language_name"] = i18n.language_name
    return environment


class LanguageTemplateEngine(JinjaTemplateEngine):
    """Litestar's Jinja engine with one environment per language, chosen by the request's language.

    Each environment compiles the templates with their fixed words already translated (see
    frontend.template_messages), which takes about a quarter off rendering a page. `engine`, the environment
    without a language, still answers anything else Litestar asks of it (strings rendered on the fly).
    """

    def __init__(self, *, auto_reload: bool) -> None:
        # Set before the parent's __init__, which registers Litestar's template callables through the override.
        self.environments = {
            language: create_environment(auto_reload=auto_reload, language=language) for language in i18n.LANGUAGES
        }
        super().__init__(engine_instance=create_environment(auto_reload=auto_reload))

    def get_template(self, template_name: str) -> JinjaTemplate:
        """The template compiled for the current language."""
        try:
            return self.environments[i18n.current_language()].get_template(name=template_name)
        except JinjaTemplateNotFound as exc:
            raise TemplateNotFoundException(template_name=template_name) from exc

    def register_template_callable(
        self, key: str, template_callable: TemplateCallableType[Mapping[str, Any], P, T]
    ) -> None:
        """Make a callable available to the templates of every language."""
        super().register_template_callable(key, template_callable)
        for environment in self.environments.values():
            environment.globals[key] = pass_context(template_callable)


def template_config(*, auto_reload: bool = False) -> TemplateConfig[JinjaTemplateEngine]:
    """Litestar's template configuration around our environments."""
    i18n.load_catalogs(LOCALE_DIR)
    return TemplateConfig(instance=LanguageTemplateEngine(auto_reload=auto_reload))


def safe_next_path(path: str) -> str:
    """A local path to go back to after a form; anything else becomes the home page."""
    # Only a local path may be a redirect target: never another site, never a scheme-relative URL.
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


def _acting_organisation(user: SignedIn | None, language: str) -> str | None:
    """The name of the organisation the person works for now (None when working for oneself): the acting banner
    names it, so an agent acting for a client sees on whose behalf they do."""
    if user is None or user.acting_org is None:
        return None
    membership = user.membership(user.acting_org)
    return None if membership is None else membership.name(language)


def layout_context(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """What every page's layout needs."""
    found = request.scope.get("user")
    user = found if isinstance(found, SignedIn) else None
    language = i18n.current_language()
    return {
        "lang": language,
        "languages": i18n.LANGUAGES,
        "current_path": safe_next_path(request.url.path),
        "user": user,
        "acting_organisation": _acting_organisation(user, language),
    }


def page(request: Request[Any, Any, Any], template: str, *, status_code: int = 200, **context: Any) -> Template:
    """Render a page template with the layout context."""
    return Template(
        template_name=template,
        context={**layout_context(request), **context},
        status_code=status_code,
    )


def render_error_page(request: Request[Any, Any, Any], problem: ProblemDetails) -> Response[Any]:
    """The friendly HTML error page, in the person's language, with the request id to quote.

    A page that needs a signed-in person sends a visitor to sign in, then back to where they were.
    """
    if problem.status == 401 and request.method == "GET":
        return Redirect(path=f"/sign-in?next={quote(safe_next_path(request.url.path))}", status_code=303)
    return page(
        request,
        "pages/error.html",
        status_code=problem.status,
        status=problem.status,
        request_id=problem.request_id,
    )
