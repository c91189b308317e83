"""Property-based fuzzing of the API from its own OpenAPI schema (schemathesis): whatever is sent —
schema-conforming or deliberately invalid — the service never answers 5xx, and every answer has a
documented status code and content type."""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance

from digitrec.inference import Recognizer
from digitrec.service import Settings, create_app


# The schema is loaded when the module is (schemathesis parametrizes at collection); the feedback the
# fuzzer stores goes to a folder removed when the module's tests are done.
STORE = tempfile.TemporaryDirectory(prefix="digitrec-fuzz-")
app = create_app(Settings(feedback_db=Path(STORE.name) / "feedback.sqlite3", max_batch=64), Recognizer(threads=1))
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
# Valid requests and invalid ones (wrong types, missing fields, values out of range).
schema.config.generation.update(modes=list(schemathesis.GenerationMode))


@pytest.fixture(scope="module", autouse=True)
def _remove_store():
    yield
    app.state.store.close()
    STORE.cleanup()


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
@pytest.mark.filterwarnings("ignore")
def test_no_input_makes_the_service_fail(case):
    case.call_and_validate(checks=[not_a_server_error, status_code_conformance, content_type_conformance])
