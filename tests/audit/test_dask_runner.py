"""The audit on a local Dask cluster gives byte-identical output to the local run."""

import os

import pytest

from safetyrules.audit import AuditOptions, run_audit
from safetyrules.audit.runner import OUTPUT_FILES
from tests.audit.conftest import demo_batch, write_jsonl


def outputs(d):
    return {n: open(os.path.join(d, n), "rb").read() for n in OUTPUT_FILES}


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None)
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_dask_matches_local(tmp_path, demo_rules, client):
    path = write_jsonl(tmp_path / "b.jsonl", demo_batch(800))
    run_audit([path], str(tmp_path / "local"), demo_rules, AuditOptions(jobs=1))
    run_audit([path], str(tmp_path / "dask"), demo_rules, AuditOptions(engine="dask", dask_client=client, part_bytes=3000))
    assert outputs(tmp_path / "local") == outputs(tmp_path / "dask")


def test_dask_ship_data_matches_local(tmp_path, demo_rules, client):
    from safetyrules.audit.dask_runner import run_dask
    from safetyrules.audit.metrics import Aggregate
    from safetyrules.audit.readers import iter_parts
    from safetyrules.audit.runner import run_local

    path = write_jsonl(tmp_path / "b.jsonl", demo_batch(300))
    parts = list(iter_parts(path, "jsonl", part_bytes=5000))
    local = list(run_local(parts, demo_rules.ir, jobs=1))
    shipped = list(run_dask(parts, demo_rules.ir, client=client, ship_data=True))
    assert [r.text for r in local] == [r.text for r in shipped]
    assert [r.progress for r in local] == [r.progress for r in shipped]
    a, b = Aggregate(), Aggregate()
    for r in local:
        a.merge(r.aggregate)
    for r in shipped:
        b.merge(r.aggregate)
    assert a.__getstate__() == b.__getstate__()


def test_dask_parquet_matches_local(tmp_path, demo_rules, client):
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = []
    for r in demo_batch(200, corrupt_every=0):
        rows.append(
            {
                "record_id": r["record_id"],
                "inspection_date": r["inspection_date"],
                "site.industry": "demo",
                "site.attributes.mine_type": "underground",
                "facts.annual_output_t": r["facts"].get("annual_output_t"),
                "facts.approved_capacity_t": r["facts"]["approved_capacity_t"],
                "findings": json.dumps(r.get("findings") or []),
            }
        )
    path = str(tmp_path / "p.parquet")
    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=40)
    run_audit([path], str(tmp_path / "local"), demo_rules, AuditOptions(jobs=2))
    run_audit([path], str(tmp_path / "dask"), demo_rules, AuditOptions(engine="dask", dask_client=client))
    assert outputs(tmp_path / "local") == outputs(tmp_path / "dask")
