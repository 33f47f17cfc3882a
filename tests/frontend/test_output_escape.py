"""Values written by templates are escaped exactly as MarkupSafe escapes them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from markupsafe import Markup, escape

from frontend.output_escape import escape_output
from frontend.rendering import create_environment


class _Html:
    def __html__(self) -> str:
        return "<b>safe</b>"


class _Text(str):
    """A str subclass: not the fast path, escaped through MarkupSafe."""


class _OwnMarkup(Markup):
    """A Markup subclass: not the fast path, passed through MarkupSafe."""


@pytest.mark.parametrize(
    "value",
    [
        "",
        "plain words",
        "<script>alert('x') & \"y\"</script>",
        "é – ü ß 東京",
        0,
        -42,
        10**30,
        True,
        False,
        None,
        1.5,
        Decimal("12.30"),
        date(2026, 4, 1),
        Markup("<em>already safe</em>"),
        _OwnMarkup("<u>x</u>"),
        _Html(),
        _Text("<b>not safe</b>"),
    ],
)
def test_escape_output_writes_the_same_text_as_markupsafe(value: object) -> None:
    assert escape_output(value) == str(escape(value))


def test_a_page_escapes_what_it_writes_in_text_and_in_attributes() -> None:
    environment = create_environment()
    template = environment.from_string('<p title="{{ value }}">{{ value }} {{ number }} {{ safe }}</p>')
    assert template.render(value="\"<&>'", number=7, safe=Markup("<br>")) == (
        '<p title="&#34;&lt;&amp;&gt;&#39;">&#34;&lt;&amp;&gt;&#39; 7 <br></p>'
    )


def test_templates_compiled_for_html_use_escape_output() -> None:
    environment = create_environment()
    source = environment.compile("{{ value }}", name="page.html", raw=True)
    assert "escape_output(" in source


def test_an_autoescape_block_keeps_jinja_own_switch() -> None:
    # Inside {% autoescape %} the escaping is decided while rendering: Jinja's own code handles it.
    environment = create_environment()
    template = environment.from_string(
        "{% autoescape false %}{{ value }}{% endautoescape %}|{% autoescape true %}{{ value }}{% endautoescape %}"
    )
    assert template.render(value="<b>") == "<b>|&lt;b&gt;"
