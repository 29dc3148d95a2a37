"""Every hostile record of the fuzz suite (tests/fuzz/) sent through the service: the answer is a
report (200) or an invalid-record problem (422) naming paths, never a 500, and always JSON.

In process (httpx's ASGI transport): the HTTP server adds nothing to what a record can do.
``SAFETYRULES_FUZZ_EXAMPLES`` sets the examples per industry, as for tests/fuzz.
"""

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safetyrules.service import create_app
from tests.fuzz.strategies import hostile_records, json_values
from tests.service.conftest import AsgiClient

EXAMPLES = int(os.environ.get("SAFETYRULES_FUZZ_EXAMPLES", "40"))


@pytest.fixture(scope="module")
def client(service_rules):
    c = AsgiClient(create_app(service_rules, env={}))
    yield c
    c.close()


def body_of(value):
    """The JSON text a client would send; Python's json writes NaN and Infinity (and lone
    surrogates as escapes), which the service must take or refuse cleanly."""
    return json.dumps(value, ensure_ascii=True, allow_nan=True).encode()


def check_answer(response):
    assert response.status_code in (200, 400, 422), response.text[:500]
    data = response.json()  # always JSON
    if response.status_code == 200:
        assert data["schema_version"] == 1
    else:
        assert response.headers["content-type"] == "application/problem+json"
        assert data["status"] == response.status_code
        if response.status_code == 422:
            assert data["errors"] and all(e["path"].startswith("$") for e in data["errors"])
    return data


def test_hostile_records_never_get_a_500(client, service_rules):
    ir = service_rules.ir
    for industry in sorted(ir.vocabularies):

        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
        @given(hostile_records(ir, industry))
        def check(record):
            response = client.post("/v1/judge", content=body_of(record), headers={"content-type": "application/json"})
            check_answer(response)

        check()


def test_hostile_batches_answer_every_input(client, service_rules):
    ir = service_rules.ir
    industry = sorted(ir.vocabularies)[0]

    @settings(max_examples=max(EXAMPLES // 4, 5), deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(hostile_records(ir, industry), min_size=1, max_size=6))
    def check(records):
        response = client.post("/v1/judge/batch", content=body_of(records), headers={"content-type": "application/json"})
        assert response.status_code == 200, response.text[:500]
        results = response.json()["results"]
        assert [r["index"] for r in results] == list(range(len(records)))
        assert all(("report" in r) != ("error" in r) for r in results)

    check()


def test_any_json_value_as_the_body(client):
    @settings(max_examples=EXAMPLES * 2, deadline=None, suppress_health_check=list(HealthCheck))
    @given(json_values)
    def check(value):
        response = client.post("/v1/judge", content=body_of(value), headers={"content-type": "application/json"})
        assert check_answer(response) and response.status_code != 200

    check()


@pytest.mark.parametrize(
    "body",
    [
        b"NaN",
        b"-Infinity",
        b'{"record_id": NaN}',
        b'"\\ud800"',
        b'{"\\udfff": 1}',
        b"\x00",
        b"{}" * 3,
        b"\xef\xbb\xbf{}",
        b'{"inspection_date": "2026-02-30"}',
    ],
)
def test_awkward_bodies(client, body):
    check_answer(client.post("/v1/judge", content=body, headers={"content-type": "application/json"}))
    batch = client.post("/v1/judge/batch", content=body, headers={"content-type": "application/x-ndjson"})
    assert batch.status_code == 200 and batch.json()["results"]
