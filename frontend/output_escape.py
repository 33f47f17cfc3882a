"""Escaping of the values a template writes out, without wrapping each one in a new Markup string.

With autoescaping, Jinja compiles `{{ value }}` into `escape(value)`: MarkupSafe escapes the text in C, then builds
a `Markup` copy of it in Python (`Markup.__new__` looks for `__html__` first). The page only joins those pieces
into one string (a macro wraps its whole output in Markup once), so the copy buys nothing. A page of the access
log writes some 1,200 values; the two Python calls per value were about a sixth of its CPU (py-spy).

`PageCodeGenerator` makes the compiled templates call `escape_output` instead, in the one place Jinja lets a code
generator choose how an output value is converted (the hook its own NativeCodeGenerator overrides). It returns
exactly the text `escape` returns, as a plain string where the value is a plain string or integer:

- a `str` is escaped by MarkupSafe's own C escaper, the very function `escape` calls;
- an `int` (not a bool) is written as its digits, which need no escaping;
- a `Markup` is already safe and is written as it is (`escape` would copy it);
- anything else (None, dates, objects with `__html__`) goes through `escape` as before.

Templates whose escaping can change while they render (`{% autoescape %}` blocks) keep Jinja's own code.
"""

from __future__ import annotations

from typing import Any

from jinja2.compiler import CodeGenerator, Frame
from jinja2.nodes import Expr, Template
from markupsafe import Markup, escape

try:
    # The C escaper `escape` itself uses (MarkupSafe 3); its pure-Python twin when the wheel has no C.
    from markupsafe._speedups import _escape_inner as _escape_text
except ImportError:  # pragma: no cover - MarkupSafe without its C extension
    from markupsafe._native import _escape_inner as _escape_text


def escape_output(value: Any) -> str:
    """The HTML-escaped text of a value written by a template: the same text as `markupsafe.escape(value)`."""
    kind = type(value)
    if kind is str:
        return _escape_text(value)
    if kind is Markup:
        return value  # type: ignore[no-any-return]
    if kind is int:
        return str(value)
    return escape(value)


class PageCodeGenerator(CodeGenerator):
    """Jinja's code generator, writing output values through `escape_output` where autoescaping is fixed."""

    def visit_Template(self, node: Template, frame: Frame | None = None) -> None:  # noqa: N802 (Jinja's visitor name)
        """The template module, importing `escape_output` before Jinja's own runtime names."""
        self.writeline(f"from {__name__} import escape_output")
        super().visit_Template(node, frame)

    def _output_child_pre(self, node: Expr, frame: Frame, finalize: CodeGenerator._FinalizeInfo) -> None:
        if frame.eval_ctx.autoescape and not frame.eval_ctx.volatile:
            self.write("escape_output(")
            if finalize.src is not None:
                self.write(finalize.src)
            return
        super()._output_child_pre(node, frame, finalize)
