"""The template environment's own helpers."""

from __future__ import annotations

from datetime import UTC, date, datetime

from frontend.rendering import create_environment


def test_isoformat_writes_dates_and_moments_in_iso_8601() -> None:
    environment = create_environment()
    template = environment.from_string('<time datetime="{{ moment|isoformat }}">{{ day|isoformat }}</time>')
    moment = datetime(2026, 3, 31, 22, 30, tzinfo=UTC)
    assert template.render(moment=moment, day=date(2026, 4, 1)) == (
        f'<time datetime="{moment.isoformat()}">2026-04-01</time>'
    )


def test_no_template_calls_isoformat_as_a_method() -> None:
    # `.isoformat()` from a template goes through Context.call on every render; the filter is a plain call.
    environment = create_environment()
    loader = environment.loader
    assert loader is not None
    calling = [
        name
        for name in environment.list_templates(extensions=["html"])
        if ".isoformat()" in loader.get_source(environment, name)[0]
    ]
    assert calling == []


def test_a_template_sees_the_environment_globals_in_a_plain_dictionary() -> None:
    # Every `{% from … import … %}` compares the context's globals with the imported template's; with a plain
    # dictionary that comparison runs in C rather than key by key through a ChainMap.
    environment = create_environment()
    environment.globals["greeting"] = "hello"
    macros = environment.from_string("{% macro shout() %}{{ greeting|upper }}{% endmacro %}")
    page = environment.from_string(
        "{% from macros import shout %}{{ shout() }} {{ own }}", globals={"macros": macros, "own": "mine"}
    )
    assert type(page.globals) is dict
    assert page.render() == "HELLO mine"
    # A template's own globals stay its own.
    assert "own" not in environment.globals
    assert "own" not in macros.globals
