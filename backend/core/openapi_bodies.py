"""OpenAPI descriptions of JSON request bodies that a handler reads itself.

Batch endpoints read the raw body so that one bad item is answered on its own instead of failing the whole batch;
Litestar then knows nothing of the body's shape. `json_body_operation(Type, "...")` gives the handler an
`operation_class` whose description carries the body's JSON Schema, generated from the same msgspec type the
handler decodes with, so the description cannot drift from the code.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.openapi.spec import Operation


def _inline(node: Any, definitions: dict[str, Any]) -> Any:
    """The schema with every `#/$defs/...` reference replaced by its definition (OpenAPI has no `$defs` root)."""
    if isinstance(node, dict):
        reference = node.get("$ref")
        if isinstance(reference, str) and reference.startswith("#/$defs/"):
            return _inline(definitions[reference.removeprefix("#/$defs/")], definitions)
        return {key: _inline(value, definitions) for key, value in node.items() if key != "$defs"}
    if isinstance(node, list):
        return [_inline(value, definitions) for value in node]
    return node


def json_body_schema(body_type: Any) -> dict[str, Any]:
    """The JSON Schema of a msgspec type, with its definitions inlined."""
    schema = msgspec.json.schema(body_type)
    inlined: dict[str, Any] = _inline(schema, schema.get("$defs", {}))
    return inlined


def json_body_operation(body_type: Any, description: str, *, required: bool = True) -> type[Operation]:
    """An `operation_class` describing an `application/json` body of `body_type` (required unless told)."""
    body = {
        "description": description,
        "required": required,
        "content": {"application/json": {"schema": json_body_schema(body_type)}},
    }

    class JsonBodyOperation(Operation):
        """The generated operation, plus the request body the handler reads itself."""

        def to_schema(self) -> dict[str, Any]:
            described = super().to_schema()
            described["requestBody"] = body
            return described

    return JsonBodyOperation
