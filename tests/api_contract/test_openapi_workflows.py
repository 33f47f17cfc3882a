"""Sequences of API calls, where each call may use what an earlier answer returned (the links schemathesis infers
from the description: a mandate id from the list of mandates, a report id from a new error report, a notice id
from the inbox...): no server error and every answer as declared, whatever state the earlier calls left."""

from __future__ import annotations

from typing import Any

import hypothesis
import pytest
from schemathesis.core.transport import Response
from schemathesis.specs.openapi.schemas import OpenApiSchema

from tests.api_contract.calls import AnyCase, authenticate, check_answer
from tests.api_contract.conftest import ContractWorld

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("api_contract")]

# Bounded: about two hundred calls in all.
SCENARIOS = 40
STEPS_PER_SCENARIO = 5


def test_api_workflows_keep_their_contract(api_schema: OpenApiSchema, contract_world: ContractWorld) -> None:
    machine = api_schema.as_state_machine()
    answered: list[tuple[str, int]] = []

    class Workflow(machine):  # type: ignore[misc,valid-type]
        """The inferred workflows, with each call's credentials and Vitrine's checks."""

        def get_call_kwargs(self, case: AnyCase) -> dict[str, Any]:
            authenticate(case, contract_world)
            return {}

        def validate_response(self, response: Response, case: AnyCase, *args: Any, **kwargs: Any) -> None:
            answered.append((case.operation.path, response.status_code))
            check_answer(case, response)

    Workflow.run(
        settings=hypothesis.settings(
            max_examples=SCENARIOS,
            stateful_step_count=STEPS_PER_SCENARIO,
            deadline=None,
            suppress_health_check=list(hypothesis.HealthCheck),
            derandomize=True,
            database=None,
            phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        )
    )
    # The scenarios went across the API, not round one operation (which ids they reach depends on the draw).
    assert len({path for path, _ in answered}) >= 10, sorted(set(answered))
