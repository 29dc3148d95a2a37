"""The ASGI application: ``create_app`` builds one, for uvicorn, gunicorn's uvicorn workers or any
ASGI server (``uvicorn 'safetyrules.service:create_app' --factory``).

The rules are loaded once, when the app is made, and shared by every request: a ``RuleSet`` is
immutable and keeps no per-record state. Nothing else is kept between requests except documents
derived from the loaded rules (schemas, forms), built on first request. A reload (SIGHUP, or
``POST /v1/admin/reload`` where enabled) loads the rules again beside the ones serving and swaps them
in when ready: requests under way finish on the rules they started with, none is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
import threading
from datetime import date
from importlib import resources
from typing import Any, AsyncContextManager, AsyncIterator, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from .. import __version__
from ..errors import LoadError, RecordError
from ..ruleset import RuleSet, load_rules
from . import catalog
from .bodies import check_media, parse_batch, parse_json, read_body
from .catalog import Encoded, Snapshot, new_snapshot
from .config import Limits, ServiceConfig, describe_limits, from_env
from .openapi import openapi_document
from .problems import (
    BAD_PARAMETER,
    INTERNAL,
    MEDIA_TYPE,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    RELOAD_DISABLED,
    RELOAD_FAILED,
    Problem,
    dumps,
    record_problem,
)

log = logging.getLogger("safetyrules.service")

JSON = "application/json"
JSONL = "application/x-ndjson"
#: batches longer than this are judged on a worker thread, so that the event loop keeps answering
THREAD_BATCH = 32
_REGION = re.compile(r"^CN-[A-Z]{2}$")


def _shipped() -> List[str]:
    from ..packs import shipped_pack_names

    return shipped_pack_names()


def _load(specs: Sequence[str]) -> RuleSet:
    from ..packs import expand_specs

    return load_rules(expand_specs(specs) or _shipped())


class Service:
    """The state one app instance keeps: the snapshot of the rules serving now, and its settings."""

    def __init__(self, snapshot: Snapshot, config: ServiceConfig, loader: Callable[[Sequence[str]], RuleSet]):
        self.current = snapshot
        self.config = config
        self.loader = loader
        self._reload_lock = threading.Lock()

    @property
    def limits(self) -> Limits:
        return self.config.limits

    def reload(self) -> Snapshot:
        """Load the rules again and swap them in (raises :class:`LoadError`; the old ones then stay)."""
        with self._reload_lock:
            old = self.current
            rules = self.loader(old.specs)
            self.current = new_snapshot(rules, old.specs, old.generation + 1)
            log.info(
                "rules reloaded (generation %d): %s",
                self.current.generation,
                ", ".join(f"{p.name} {p.version}" for p in rules.packs),
            )
            return self.current


def create_app(
    rules: Union[RuleSet, Sequence[str], None] = None,
    *,
    limits: Optional[Limits] = None,
    reload_endpoint: Optional[bool] = None,
    cors_origins: Optional[Sequence[str]] = None,
    env: Optional[Mapping[str, str]] = None,
) -> Starlette:
    """The service as an ASGI app.

    ``rules`` is a loaded ``RuleSet``, or what to load (pack names, pack folders, module files), or
    None: then ``SAFETYRULES_SERVICE_RULES`` (comma-separated) or the shipped packs. Limits and the
    reload endpoint default to the ``SAFETYRULES_SERVICE_*`` environment (see ``config``), which is how
    an ASGI server's worker processes get them.
    """
    config = from_env(os.environ if env is None else env)
    if isinstance(rules, RuleSet):
        loaded, specs = rules, tuple(p.path for p in rules.packs)
    else:
        specs = tuple(rules) if rules is not None else config.specs
        loaded = _load(specs)
    config = ServiceConfig(
        specs,
        limits or config.limits,
        config.reload_endpoint if reload_endpoint is None else reload_endpoint,
        config.cors_origins if cors_origins is None else tuple(cors_origins),
    )
    service = Service(new_snapshot(loaded, specs), config, _load)
    middleware = []
    if config.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(config.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["Content-Type"],
            )
        )
    app = Starlette(
        routes=_routes(service),
        middleware=middleware,
        exception_handlers={Problem: _problem_handler, HTTPException: _http_handler, Exception: _internal_handler},
        lifespan=_lifespan(service),
    )
    app.state.service = service
    return app


def _lifespan(service: Service) -> Callable[[Starlette], AsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        """SIGHUP reloads the rules (in a worker thread; requests go on meanwhile). Only where the
        loop runs in the main thread (a test client's loop does not)."""
        loop = asyncio.get_running_loop()
        installed = False
        if hasattr(signal, "SIGHUP") and threading.current_thread() is threading.main_thread():

            def on_hup() -> None:
                loop.create_task(_reload_logged(service))

            try:
                loop.add_signal_handler(signal.SIGHUP, on_hup)
                installed = True
            except (NotImplementedError, RuntimeError, ValueError):  # pragma: no cover - platform without it
                installed = False
        try:
            yield
        finally:
            if installed:
                loop.remove_signal_handler(signal.SIGHUP)

    return lifespan


async def _reload_logged(service: Service) -> None:
    try:
        await anyio.to_thread.run_sync(service.reload)
    except LoadError as exc:
        log.error("reload failed; the rules loaded before still serve:\n%s", exc)
    except Exception:  # noqa: BLE001 - a failed reload must not stop the service
        log.exception("reload failed; the rules loaded before still serve")


# ------------------------------------------------------------------------------------------ responses


def _json(value: Any, status: int = 200) -> Response:
    return Response(dumps(value), status, media_type=JSON)


def _problem(problem: Problem, path: str) -> Response:
    return Response(problem.body(path), problem.kind.status, media_type=MEDIA_TYPE)


async def _problem_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return _problem(exc, request.url.path)


async def _http_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        problem = Problem(METHOD_NOT_ALLOWED, f"{request.method} is not allowed on {request.url.path}")
        response = _problem(problem, request.url.path)
        if exc.headers and "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    if exc.status_code == 404:
        return _problem(
            Problem(NOT_FOUND, f"no endpoint at {request.url.path} (GET /v1/openapi.json lists them)"), request.url.path
        )
    return Response(
        dumps({"type": "about:blank", "title": str(exc.detail), "status": exc.status_code}),
        exc.status_code,
        media_type=MEDIA_TYPE,
    )


async def _internal_handler(request: Request, exc: Exception) -> Response:
    log.error("internal error on %s %s: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
    return _problem(Problem(INTERNAL, "the service failed on this request; it is logged (please report it)"), request.url.path)


def _encoded(request: Request, doc: Encoded) -> Response:
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(doc.gzipped, media_type=JSON, headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
    return Response(doc.body, media_type=JSON, headers={"Vary": "Accept-Encoding"})


# ------------------------------------------------------------------------------------------ query parameters


def _params(request: Request, allowed: Tuple[str, ...]) -> Dict[str, str]:
    params = request.query_params
    for name in params.keys():
        if name not in allowed:
            hint = f"; this endpoint takes {', '.join(allowed)}" if allowed else "; this endpoint takes none"
            raise Problem(BAD_PARAMETER, f"unknown query parameter {name!r}{hint}", {"parameter": name})
    return {k: params[k] for k in allowed if k in params}


def _date(params: Mapping[str, str], name: str = "as_of") -> Optional[date]:
    text = params.get(name)
    if text is None or text == "":
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Problem(BAD_PARAMETER, f"{name}={text!r} is not a date YYYY-MM-DD", {"parameter": name}) from None


def _presumptions(params: Mapping[str, str]) -> bool:
    """``presumptions=false`` judges strictly (as ``check --no-presumptions``); the default is true."""
    text = params.get("presumptions")
    if text is None or text in ("", "true"):
        return True
    if text == "false":
        return False
    raise Problem(BAD_PARAMETER, f"presumptions={text!r} is not true or false", {"parameter": "presumptions"})


def _region(params: Mapping[str, str]) -> Optional[str]:
    text = params.get("jurisdiction")
    if text is None or text == "":
        return None
    if not _REGION.match(text):
        raise Problem(BAD_PARAMETER, f"jurisdiction={text!r} is not a province code such as CN-NM", {"parameter": "jurisdiction"})
    return text


# ------------------------------------------------------------------------------------------ routes


def _routes(service: Service) -> List[BaseRoute]:
    static = resources.files("safetyrules.service").joinpath("static")
    index_html = static.joinpath("index.html").read_bytes()

    async def index(request: Request) -> Response:
        return Response(index_html, media_type="text/html; charset=utf-8")

    async def healthz(request: Request) -> Response:
        _params(request, ())
        return _json({"status": "ok"})

    async def readyz(request: Request) -> Response:
        _params(request, ())
        snap = service.current
        return _json(
            {
                "status": "ready",
                "version": __version__,
                "generation": snap.generation,
                "loaded_at": snap.loaded_at,
                # which worker process answered (a reload of several workers replaces them one by one)
                "pid": os.getpid(),
                "packs": [{"name": p.name, "version": p.version} for p in snap.rules.packs],
                "modules": len(snap.rules.modules),
                "rules": len(snap.rules.rules),
                "compiled": snap.rules.compiled,
                "limits": describe_limits(service.limits),
            }
        )

    async def judge(request: Request) -> Response:
        params = _params(request, ("as_of", "jurisdiction", "presumptions"))
        as_of, region, presumptions = _date(params), _region(params), _presumptions(params)
        check_media(request.headers.get("content-type"), jsonl=False)
        data = await read_body(request.stream(), request.headers.get("content-length"), service.limits.max_body_bytes)
        value = parse_json(data)
        rules = service.current.rules
        try:
            report = rules.evaluate(value, as_of=as_of, jurisdiction=region, presumptions=presumptions)
        except RecordError as exc:
            raise record_problem(exc) from None
        return Response(dumps(report.to_json()), media_type=JSON)

    async def judge_batch(request: Request) -> Response:
        params = _params(request, ("as_of", "jurisdiction", "presumptions"))
        as_of, region, presumptions = _date(params), _region(params), _presumptions(params)
        media = check_media(request.headers.get("content-type"), jsonl=True)
        limits = service.limits
        data = await read_body(request.stream(), request.headers.get("content-length"), limits.max_batch_bytes)
        entries = parse_batch(data, media, limits.max_batch_records)
        rules = service.current.rules if presumptions else service.current.rules.strict()
        path = request.url.path

        def run() -> Tuple[List[bytes], int]:
            out, errors = [], 0
            for i, entry in enumerate(entries):
                head: Dict[str, Any] = {"index": i}
                if entry.line is not None:
                    head["line"] = entry.line
                if entry.problem is not None:
                    head["error"] = entry.problem.to_json(path)
                    errors += 1
                else:
                    try:
                        head["report"] = rules.evaluate(entry.value, as_of=as_of, jurisdiction=region).to_json()
                    except RecordError as exc:
                        extra = {"line": entry.line} if entry.line is not None else {}
                        head["error"] = record_problem(exc, **extra).to_json(path)
                        errors += 1
                out.append(dumps(head))
            return out, errors

        results, errors = await anyio.to_thread.run_sync(run) if len(entries) > THREAD_BATCH else run()
        accept = request.headers.get("accept", "")
        if JSONL in accept or "application/jsonl" in accept:
            return Response(b"".join(r + b"\n" for r in results), media_type=JSONL)
        counts = dumps({"records": len(results), "reports": len(results) - errors, "errors": errors})
        return Response(b'{"counts":' + counts + b',"results":[' + b",".join(results) + b"]}", media_type=JSON)

    async def packs(request: Request) -> Response:
        _params(request, ())
        snap = service.current
        return _encoded(request, snap.document("packs", lambda: catalog.packs_document(snap)))

    async def modules(request: Request) -> Response:
        params = _params(request, ("pack", "industry", "as_of"))
        snap = service.current
        pack, industry, as_of = params.get("pack"), params.get("industry"), _date(params)
        return _encoded(
            request,
            snap.document(("modules", pack, industry, as_of), lambda: catalog.modules_document(snap, pack, industry, as_of)),
        )

    async def rule(request: Request) -> Response:
        _params(request, ())
        snap = service.current
        rule_id = request.path_params["rule_id"]
        return _encoded(request, snap.document(("rule", rule_id), lambda: catalog.rule_document(snap, rule_id)))

    async def record_schema(request: Request) -> Response:
        params = _params(request, ("pack", "industry", "as_of"))
        snap = service.current
        pack, industry, as_of = params.get("pack"), params.get("industry"), _date(params)
        return _encoded(
            request,
            snap.document(
                ("record-schema", pack, industry, as_of), lambda: catalog.record_schema_document(snap, pack, industry, as_of)
            ),
        )

    async def result_schema(request: Request) -> Response:
        _params(request, ())
        return _encoded(request, service.current.document("result-schema", catalog.result_schema_document))

    async def form(request: Request) -> Response:
        params = _params(request, ("industry", "as_of"))
        snap = service.current
        pack, industry, as_of = request.path_params["pack"], params.get("industry"), _date(params)
        return _encoded(
            request, snap.document(("form", pack, industry, as_of), lambda: catalog.form_for(snap, pack, industry, as_of))
        )

    async def openapi(request: Request) -> Response:
        _params(request, ())
        snap = service.current
        return _encoded(request, snap.document("openapi", lambda: openapi_document(snap.rules, service.limits)))

    async def reload(request: Request) -> Response:
        _params(request, ())
        if not service.config.reload_endpoint:
            raise Problem(RELOAD_DISABLED, "start the service with --reload-endpoint (or send it SIGHUP) to reload rules")
        try:
            snap = await anyio.to_thread.run_sync(service.reload)
        except LoadError as exc:
            raise Problem(
                RELOAD_FAILED,
                f"{len(exc.diagnostics)} error(s) loading rules",
                {"errors": [{"path": d.location.path, "message": f"{d.code} {d.message}"} for d in exc.diagnostics]},
            ) from None
        return _json(
            {
                "status": "reloaded",
                "generation": snap.generation,
                "loaded_at": snap.loaded_at,
                "packs": [{"name": p.name, "version": p.version} for p in snap.rules.packs],
            }
        )

    return [
        Route("/", index, methods=["GET"]),
        Mount("/static", StaticFiles(directory=str(static)), name="static"),
        Route("/v1/healthz", healthz, methods=["GET"]),
        Route("/v1/readyz", readyz, methods=["GET"]),
        Route("/v1/judge", judge, methods=["POST"]),
        Route("/v1/judge/batch", judge_batch, methods=["POST"]),
        Route("/v1/packs", packs, methods=["GET"]),
        Route("/v1/modules", modules, methods=["GET"]),
        Route("/v1/rules/{rule_id:path}", rule, methods=["GET"]),
        Route("/v1/schemas/record", record_schema, methods=["GET"]),
        Route("/v1/schemas/result", result_schema, methods=["GET"]),
        Route("/v1/forms/{pack}", form, methods=["GET"]),
        Route("/v1/openapi.json", openapi, methods=["GET"]),
        Route("/v1/admin/reload", reload, methods=["POST"]),
    ]
