"""Every JSON API operation, fuzzed by schemathesis from the app's own OpenAPI description: no server error, and
every answer as declared (status code documented, content type, body schema, headers).

Citizen operations run signed in as a seeded citizen; institution operations carry a fresh single-use assertion
per request. Path parameters are sometimes replaced by ids that exist in the seeded database, so the answers
past "not found" are checked as well. Valid and invalid inputs are both generated.
"""

from __future__ import annotations

import hypothesis
import pytest
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.schemas import OpenApiSchema

from backend.app import create_app
from backend.core.settings import load_settings
from tests.api_contract.calls import AnyCase, AnyOperation, authenticate, check_answer
from tests.api_contract.conftest import ContractWorld

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("api_contract")]

# Bounded so that the whole run stays well under a minute and a half on two cores.
EXAMPLES_PER_OPERATION = 25


def _documented_operations() -> list[tuple[str, str]]:
    """(method, path) of every JSON API operation the app describes; read from the app itself at collection."""
    settings = load_settings(
        {"VITRINE_ENV": "test", "DATABASE_URL": "postgresql://unused", "REDIS_URL": "redis://unused"}
    )
    document = create_app(settings, configure_logs=False).openapi_schema.to_schema()
    return sorted(
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if path.startswith("/api/") and method in {"get", "post", "put", "patch", "delete"}
    )


def _cases(operation: AnyOperation) -> st.SearchStrategy[AnyCase]:
    positive = operation.as_strategy(GenerationMode.POSITIVE)
    has_input = bool(operation.path_parameters or operation.query or operation.headers or operation.body)
    return st.one_of(positive, operation.as_strategy(GenerationMode.NEGATIVE)) if has_input else positive


@pytest.mark.parametrize(("method", "path"), _documented_operations(), ids=lambda value: str(value))
def test_api_operation_keeps_its_contract(
    method: str, path: str, api_schema: OpenApiSchema, contract_world: ContractWorld
) -> None:
    operation = api_schema[path][method]

    @hypothesis.settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        derandomize=True,
        database=None,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    @hypothesis.given(case=_cases(operation), data=st.data())
    def call(case: AnyCase, data: st.DataObject) -> None:
        for name, known in contract_world.known_ids.items():
            if case.path_parameters and name in case.path_parameters and known:
                choices = [case.path_parameters[name], *known]
                case.path_parameters[name] = data.draw(st.sampled_from(choices), label=name)
        authenticate(case, contract_world)
        check_answer(case, case.call())

    call()
