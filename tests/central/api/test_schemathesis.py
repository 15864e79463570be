"""Property-based requests over the whole OpenAPI document, authenticated: never a 5xx."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.central.api.conftest import Central
from tests.central.api.world import World, bearer

EXAMPLES_PER_OPERATION = 6
ENDLESS = "/api/stream"


def test_no_server_errors(central: Central, world: World) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", central.app)
    headers = bearer(world.tokens["root"])
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    for operation in operations:
        if operation.path == ENDLESS:
            continue

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        run()
