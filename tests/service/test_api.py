"""The HTTP API over a real socket (uvicorn in a thread, httpx as the client): judgements, batches,
problem details, limits, listings, schemas, forms, the OpenAPI document, health and reload."""

import copy
import gzip
import json

import httpx
import jsonschema
import pytest

from safetyrules.schemas import record_schema, result_schema
from safetyrules.service import Limits, create_app, form_description
from safetyrules.service.openapi import embed
from tests.service.conftest import LiveServer, example

PROBLEM = "application/problem+json"


def coal():
    return example("coal-underground-2026.json")


def assert_problem(response, status, slug):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == f"https://safetyrules.invalid/problems/{slug}"
    assert body["status"] == status and body["title"] and body["detail"]
    return body


# ------------------------------------------------------------------------------------------ judging


def test_judge_returns_the_librarys_report(http, service_rules):
    response = http.post("/v1/judge", json=coal())
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    body = response.json()
    jsonschema.validate(body, result_schema())
    assert body == json.loads(json.dumps(service_rules.evaluate(coal()).to_json()))
    assert body["status"] == "major_hazard_found"
    face = next(d for d in body["determinations"] if d["rule_id"] == "coal-mine-2026.a8.i1.s2")
    assert face["citation"]["rendered"] == "《煤矿重大事故隐患判定标准》第八条第（一）项"
    assert face["item"] == {"list": "working_faces", "key": "2205运输顺槽掘进工作面"}


def test_judge_as_of_and_jurisdiction(http):
    body = http.post("/v1/judge", params={"as_of": "2026-06-01"}, json=coal()).json()
    assert [m["id"] for m in body["modules_applied"]] == ["coal-mine-2020"] and body["as_of"] == "2026-06-01"
    assert http.post("/v1/judge", params={"jurisdiction": "CN-NM"}, json=coal()).status_code == 200
    problem = assert_problem(http.post("/v1/judge", params={"jurisdiction": "Inner Mongolia"}, json=coal()), 400, "bad-parameter")
    assert problem["parameter"] == "jurisdiction"
    problem = assert_problem(http.post("/v1/judge", params={"as_of": "2026-02-30"}, json=coal()), 400, "bad-parameter")
    assert problem["parameter"] == "as_of" and "2026-02-30" in problem["detail"]
    problem = assert_problem(http.post("/v1/judge", params={"asof": "2026-06-01"}, json=coal()), 400, "bad-parameter")
    assert problem["parameter"] == "asof" and "as_of" in problem["detail"]


def test_judge_strictly(http, service_rules):
    body = http.post("/v1/judge", params={"presumptions": "false"}, json=coal()).json()
    assert body["engine"]["presumptions"] is False
    assert body == json.loads(json.dumps(service_rules.evaluate(coal(), presumptions=False).to_json()))
    assert http.post("/v1/judge", params={"presumptions": "true"}, json=coal()).json()["engine"]["presumptions"] is True
    batch = http.post("/v1/judge/batch", params={"presumptions": "false"}, json=[coal()]).json()
    assert batch["results"][0]["report"]["engine"]["presumptions"] is False
    problem = assert_problem(http.post("/v1/judge", params={"presumptions": "no"}, json=coal()), 400, "bad-parameter")
    assert problem["parameter"] == "presumptions"


def test_invalid_record_is_422_with_json_paths(http):
    record = coal()
    record["facts"]["working_faces"][0]["air_actual_m3_min"] = "lots"
    record["facts"]["bogus_fact"] = 1
    problem = assert_problem(http.post("/v1/judge", json=record), 422, "invalid-record")
    assert problem["record_id"] == "SX-2026-001284" and problem["instance"] == "/v1/judge"
    paths = [e["path"] for e in problem["errors"]]
    assert paths == ["$.facts.working_faces[0].air_actual_m3_min", "$.facts.bogus_fact"]
    assert "unknown fact 'bogus_fact'" in problem["errors"][1]["message"]


@pytest.mark.parametrize(
    "body, needle",
    [
        (b'{"record_id": ', "malformed JSON"),
        (b'{"record_id": "a", "record_id": "b"}', "$.record_id: the key 'record_id' appears more than once"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"", "empty"),
        (b"[" * 5000 + b"]" * 5000, "nested too deeply"),
        (b'{"x": ' + b"9" * 5000 + b"}", "too long"),
    ],
)
def test_malformed_bodies_are_400(http, body, needle):
    problem = assert_problem(
        http.post("/v1/judge", content=body, headers={"content-type": "application/json"}), 400, "malformed-body"
    )
    assert needle in problem["detail"]


def test_a_json_value_that_is_not_a_record_is_422(http):
    for value in ([1, 2], "text", None, 3.5):
        response = http.post("/v1/judge", content=json.dumps(value), headers={"content-type": "application/json"})
        problem = assert_problem(response, 422, "invalid-record")
        assert problem["errors"][0]["path"] == "$"


def test_content_type(http):
    assert_problem(
        http.post("/v1/judge", content=json.dumps(coal()), headers={"content-type": "text/plain"}), 415, "unsupported-media-type"
    )
    # none given, or JSON with a charset or a +json suffix: read as JSON
    for media in (None, "application/json; charset=utf-8", "application/vnd.inspection+json"):
        headers = {"content-type": media} if media else {}
        request = http.build_request("POST", "/v1/judge", content=json.dumps(coal()).encode(), headers=headers)
        if media is None:
            request.headers.pop("content-type", None)
        assert http.send(request).status_code == 200


def test_wrong_method_and_unknown_endpoint(http):
    problem = assert_problem(http.get("/v1/judge"), 405, "method-not-allowed")
    assert "GET" in problem["detail"]
    assert_problem(http.get("/v1/nothing-here"), 404, "not-found")


# ------------------------------------------------------------------------------------------ batches


def test_batch_json_array_keeps_order_and_errors_as_values(http, service_rules):
    good, other = coal(), example("coal-open-pit-2026.json")
    bad = copy.deepcopy(good)
    bad["record_id"] = "BAD-1"
    bad["facts"]["annual_output_t"] = "a lot"
    response = http.post("/v1/judge/batch", json=[good, bad, "not a record", other])
    assert response.status_code == 200
    body = response.json()
    assert body["counts"] == {"records": 4, "reports": 2, "errors": 2}
    results = body["results"]
    assert [r["index"] for r in results] == [0, 1, 2, 3]
    assert results[0]["report"]["record_id"] == "SX-2026-001284"
    assert results[1]["error"]["status"] == 422 and results[1]["error"]["record_id"] == "BAD-1"
    assert results[1]["error"]["errors"][0]["path"] == "$.facts.annual_output_t"
    assert results[2]["error"]["errors"][0]["path"] == "$"
    assert results[3]["report"] == json.loads(json.dumps(service_rules.evaluate(other).to_json()))


def test_batch_json_lines_in_and_out(http):
    lines = [json.dumps(coal()), "{not json", "", json.dumps(example("coal-open-pit-2026.json"))]
    body = "\n".join(lines).encode()
    response = http.post("/v1/judge/batch", content=body, headers={"content-type": "application/x-ndjson"})
    results = response.json()["results"]
    assert [(r["index"], r["line"], "report" in r) for r in results] == [(0, 1, True), (1, 2, False), (2, 4, True)]
    assert results[1]["error"]["type"].endswith("/malformed-body") and results[1]["error"]["line"] == 2
    response = http.post(
        "/v1/judge/batch", content=body, headers={"content-type": "application/x-ndjson", "accept": "application/x-ndjson"}
    )
    assert response.headers["content-type"] == "application/x-ndjson"
    out = [json.loads(line) for line in response.text.splitlines()]
    assert [r["index"] for r in out] == [0, 1, 2] and out[0]["report"]["status"] == "major_hazard_found"


def test_batch_of_100_is_judged_on_a_thread_and_in_order(http):
    records = []
    for i in range(100):
        r = coal()
        r["record_id"] = f"R-{i}"
        if i % 7 == 3:
            r["facts"]["crew_limit"] = -5 if i % 2 else "many"
        records.append(r)
    results = http.post("/v1/judge/batch", json=records).json()["results"]
    assert len(results) == 100
    for i, r in enumerate(results):
        assert r["index"] == i
        if i % 7 == 3:
            assert r["error"]["record_id"] == f"R-{i}" and r["error"]["errors"][0]["path"] == "$.facts.crew_limit"
        else:
            assert r["report"]["record_id"] == f"R-{i}"


def test_batch_that_is_not_an_array(http):
    problem = assert_problem(http.post("/v1/judge/batch", json=coal()), 400, "malformed-body")
    assert "array" in problem["detail"]


# ------------------------------------------------------------------------------------------ limits


@pytest.fixture(scope="module")
def small(service_rules):
    app = create_app(service_rules, limits=Limits(max_body_bytes=4000, max_batch_bytes=200_000, max_batch_records=3), env={})
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


def test_bodies_over_the_limit_are_413(small):
    big = coal()  # about 20 KB
    problem = assert_problem(small.post("/v1/judge", json=big), 413, "body-too-large")
    assert problem["limit"] == 4000
    # without a Content-Length (chunked), the limit holds while the body streams in
    chunks = (json.dumps(big).encode()[i : i + 1000] for i in range(0, 30000, 1000))
    assert_problem(small.post("/v1/judge", content=chunks, headers={"content-type": "application/json"}), 413, "body-too-large")
    small_record = {"record_id": "S", "inspection_date": "2026-09-16", "site": {"industry": "coal_mine"}, "facts": {}}
    assert small.post("/v1/judge", json=small_record).status_code == 200


def test_batches_over_the_record_limit_are_413(small):
    record = {"record_id": "S", "inspection_date": "2026-09-16", "site": {"industry": "coal_mine"}, "facts": {}}
    assert small.post("/v1/judge/batch", json=[record] * 3).status_code == 200
    problem = assert_problem(small.post("/v1/judge/batch", json=[record] * 4), 413, "too-many-records")
    assert problem["limit"] == 3
    lines = "\n".join(json.dumps(record) for _ in range(4)).encode()
    assert_problem(
        small.post("/v1/judge/batch", content=lines, headers={"content-type": "application/x-ndjson"}), 413, "too-many-records"
    )


# ------------------------------------------------------------------------------------------ listings


def test_packs_list_modules_with_effective_dates(http):
    body = http.get("/v1/packs").json()
    packs = {p["name"]: p for p in body["packs"]}
    assert set(packs) == {"mining", "construction"}
    modules = {m["id"]: m for m in packs["mining"]["modules"]}
    assert (
        modules["coal-mine-2020"]["effective_from"] == "2021-01-01"
        and modules["coal-mine-2020"]["effective_until"] == "2026-06-30"
    )
    assert modules["coal-mine-2026"]["document"]["number"] == "应急管理部令第21号"
    assert [i["id"] for i in packs["mining"]["industries"]] == ["coal_mine", "metal_nonmetal_mine"]


def test_modules_filtered_with_rules_and_citations(http):
    body = http.get("/v1/modules", params={"pack": "construction", "as_of": "2026-03-01"}).json()
    ids = [m["id"] for m in body["modules"]]
    assert ids and all(i.startswith("construction-2024-") for i in ids)
    body = http.get("/v1/modules", params={"industry": "coal_mine", "as_of": "2026-09-16"}).json()
    assert [m["id"] for m in body["modules"]] == ["coal-mine-2026"]
    rule = next(r for r in body["modules"][0]["rules"] if r["id"] == "coal-mine-2026.a4.i1.s2")
    assert rule["citation"]["locator"] == "第四条第（一）项" and rule["title"]["zh"].startswith("井工煤矿")
    assert_problem(http.get("/v1/modules", params={"pack": "no-such-pack"}), 404, "not-found")


def test_one_rule_with_its_text_facts_and_citation(http):
    body = http.get("/v1/rules/coal-mine-2026.a8.i1.s2").json()
    assert body["citation"]["rendered"] == "《煤矿重大事故隐患判定标准》第八条第（一）项"
    assert body["condition"] == "f.air_actual_m3_min < f.air_required_m3_min * 75%"
    assert body["applies_if"] == "mine_type == 'underground'"
    assert body["module"]["effective_from"] == "2026-07-01"
    facts = {f["name"]: f for f in body["facts"]}
    assert facts["mine_type"]["type"] == "enum" and "underground" in [v["value"] for v in facts["mine_type"]["values"]]
    fields = {f["name"]: f for f in facts["working_faces"]["fields"]}
    assert fields["air_actual_m3_min"]["unit"] == "m3/min" and fields["air_actual_m3_min"]["label"]["zh"]
    assert body["fields"]["working_faces"][:1] == ["id"]
    problem = assert_problem(http.get("/v1/rules/coal-mine-2026.a99"), 404, "not-found")
    assert "coal-mine-2026.a99" in problem["detail"]


# ------------------------------------------------------------------------------------------ schemas and forms


def test_record_schema_for_a_pack_and_date(http, service_rules):
    from datetime import date

    schema = http.get("/v1/schemas/record", params={"pack": "mining", "industry": "coal_mine", "as_of": "2026-09-16"}).json()
    assert schema == json.loads(json.dumps(record_schema(service_rules.ir, date(2026, 9, 16), "coal_mine")))
    jsonschema.validate(coal(), schema)
    bad = coal()
    bad["facts"]["annual_output_t"] = "a lot"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
    whole = http.get("/v1/schemas/record", params={"pack": "mining"}).json()
    assert whole["properties"]["site"]["properties"]["industry"]["enum"] == ["coal_mine", "metal_nonmetal_mine"]
    assert {b["if"]["properties"]["site"]["properties"]["industry"]["const"] for b in whole["allOf"]} == {
        "coal_mine",
        "metal_nonmetal_mine",
    }
    jsonschema.validate(example("nonmetal-underground.json"), whole)
    assert_problem(http.get("/v1/schemas/record", params={"pack": "mining", "industry": "construction"}), 404, "not-found")


def test_result_schema(http):
    assert http.get("/v1/schemas/result").json() == result_schema()


def test_form_endpoint_is_the_form_description(http, service_rules):
    from datetime import date

    body = http.get("/v1/forms/mining", params={"industry": "coal_mine", "as_of": "2026-09-16"}).json()
    assert body == json.loads(
        json.dumps(form_description(service_rules, "mining", as_of=date(2026, 9, 16), industry="coal_mine"))
    )
    assert [m["id"] for m in body["modules"]] == ["coal-mine-2026"]
    assert_problem(http.get("/v1/forms/mining", params={"industry": "bakery"}), 404, "not-found")


def test_large_documents_are_gzipped_when_asked(http):
    raw = http.get("/v1/forms/mining", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in raw.headers
    zipped = httpx.get(str(http.base_url) + "/v1/forms/mining", headers={"accept-encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip" and zipped.json() == raw.json()
    assert len(gzip.compress(raw.content)) < len(raw.content) / 4


# ------------------------------------------------------------------------------------------ OpenAPI


def test_openapi_document_is_valid_and_uses_the_librarys_schemas(http, service_rules):
    from openapi_spec_validator import validate

    doc = http.get("/v1/openapi.json").json()
    validate(doc)
    assert doc["openapi"].startswith("3.1")
    schemas = doc["components"]["schemas"]
    assert schemas["Record"] == json.loads(json.dumps(embed(record_schema(service_rules.ir), "/components/schemas/Record")))
    assert schemas["Result"]["properties"]["determinations"]["items"] == {
        "$ref": "#/components/schemas/Result/$defs/determination"
    }
    judge = doc["paths"]["/v1/judge"]["post"]
    assert judge["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Record"}
    assert judge["responses"]["422"]["content"] == {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    # a served report validates against the Result schema as the document embeds it
    resolver_doc = dict(schemas["Result"], components=doc["components"])
    jsonschema.validate(http.post("/v1/judge", json=coal()).json(), resolver_doc)
    served = {path for path in doc["paths"]}
    assert {
        "/v1/judge",
        "/v1/judge/batch",
        "/v1/packs",
        "/v1/modules",
        "/v1/rules/{rule_id}",
        "/v1/schemas/record",
        "/v1/schemas/result",
        "/v1/forms/{pack}",
        "/v1/healthz",
        "/v1/readyz",
        "/v1/openapi.json",
    } <= served


# ------------------------------------------------------------------------------------------ health, reload, page


def test_health_and_readiness(http):
    assert http.get("/v1/healthz").json() == {"status": "ok"}
    ready = http.get("/v1/readyz").json()
    assert ready["status"] == "ready" and ready["generation"] == 1
    assert [p["name"] for p in ready["packs"]] == ["mining", "construction"]
    assert ready["limits"]["max_body_bytes"] == Limits().max_body_bytes


def test_reload_endpoint_is_off_unless_enabled(http):
    assert_problem(http.post("/v1/admin/reload"), 403, "reload-disabled")


def test_reload_endpoint_swaps_the_rules_in(service_rules):
    app = create_app(service_rules, reload_endpoint=True, env={})
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=120) as client:
        before = client.post("/v1/judge", json=coal()).json()
        body = client.post("/v1/admin/reload").json()
        assert body["status"] == "reloaded" and body["generation"] == 2
        assert client.get("/v1/readyz").json()["generation"] == 2
        assert app.state.service.current.rules is not service_rules
        assert client.post("/v1/judge", json=coal()).json() == before


def test_the_page_and_its_files_are_served(http):
    page = http.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for name in ("app.js", "app.css"):
        assert f"static/{name}" in page.text
        assert http.get(f"/static/{name}").status_code == 200
