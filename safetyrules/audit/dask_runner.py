"""The audit on Dask: the same parts and the same per-part function, on a cluster.

The compiled rule set (IR) is scattered once to every worker; each worker binds its own backend the
first time it sees it. Parts are submitted with a bounded window and their results taken in input
order, so the driver's memory stays constant and the output is identical to a local run.

JSON Lines and Parquet parts name a file and a byte range or row group: the workers read the file
themselves, so it must be at the same path on every worker (a shared or network file system). With
``ship_data=True`` the driver reads each JSON Lines part and sends its bytes instead. CSV parts always
carry their rows.

    from distributed import Client
    client = Client("tcp://scheduler:8786")
    run_audit(["records.jsonl"], "out", rules, AuditOptions(engine="dask", dask_client=client))
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, AbstractSet, Deque, Dict, Iterable, Iterator, Optional, Tuple

from ..errors import SafetyRulesError
from .metrics import SampleRoom
from .readers import JsonlBytesPart, JsonlPart, Part
from .runner import AuditContext, PartResult, audit_part

if TYPE_CHECKING:
    from distributed import Client, Future

    from ..ir import RuleSetIR

#: contexts bound on this worker process, by the id of the scattered IR object
_CONTEXTS: Dict[Tuple[int, str], AuditContext] = {}


def _context(ir: RuleSetIR, backend: str) -> AuditContext:
    key = (id(ir), backend)
    ctx = _CONTEXTS.get(key)
    if ctx is None or ctx.rules.ir is not ir:
        _CONTEXTS.clear()
        ctx = _CONTEXTS[key] = AuditContext(ir, backend)
    return ctx


def audit_part_on_worker(part: Part, ir: RuleSetIR, backend: str, full: AbstractSet[str] = frozenset()) -> PartResult:
    return audit_part(part, _context(ir, backend), full)


def _ship(part: Part) -> Part:
    if isinstance(part, JsonlPart):
        with open(part.path, "rb") as fh:
            fh.seek(part.start)
            data = fh.read(part.stop - part.start)
        return JsonlBytesPart(part.path, data, part.first_line, part.index, part.stop - part.start)
    return part


def run_dask(
    parts: Iterable[Part],
    ir: RuleSetIR,
    backend: str = "native",
    client: Optional[Client] = None,
    address: Optional[str] = None,
    jobs: Optional[int] = None,
    ship_data: bool = False,
    window: Optional[int] = None,
) -> Iterator[PartResult]:
    """Results of the parts in order, computed on a Dask cluster.

    ``client``: an existing ``distributed.Client``; else ``address`` (``tcp://host:8786``) to connect to;
    else a LocalCluster of ``jobs`` single-threaded worker processes is started and closed afterwards.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - distributed is in the audit extra
        raise SafetyRulesError("the Dask engine needs dask[distributed]: pip install 'safetyrules[audit]'") from None
    own_cluster = own_client = None
    if client is None:
        if address:
            client = own_client = Client(address)
        else:
            from .runner import default_jobs

            own_cluster = LocalCluster(
                n_workers=jobs or default_jobs(), threads_per_worker=1, processes=True, dashboard_address=None
            )
            client = own_client = Client(own_cluster)
    try:
        ir_future = client.scatter(ir, broadcast=True)
        nworkers = max(len(client.scheduler_info().get("workers", {})), 1)
        window = window or nworkers * 3
        pending: Deque[Future[PartResult]] = deque()
        it = iter(parts)
        room = SampleRoom()  # drill-down keys already filled, so that later parts skip them

        def submit(part: Part) -> None:
            payload = _ship(part) if ship_data else part
            pending.append(client.submit(audit_part_on_worker, payload, ir_future, backend, room.full(), pure=False))

        for part in it:
            submit(part)
            if len(pending) >= window:
                break
        while pending:
            result = pending.popleft().result()
            room.add(result.aggregate)
            for part in it:
                submit(part)
                break
            yield result
    finally:
        if own_client is not None:
            own_client.close()
        if own_cluster is not None:
            own_cluster.close()
