"""``safetyrules serve`` (the HTTP service and the checklist page) and ``safetyrules schema form``.

``python -m safetyrules.service serve ...`` is the same command (its ``__main__`` runs the CLI).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Dict

from ..service.config import ConfigError, Limits, ServiceConfig, to_env
from .common import EXIT_ERROR, EXIT_OK, load, positive_int, rules_specs

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8000
#: a new worker must have loaded its rules within this many seconds (uvicorn's default of 5 is short
#: for every shipped pack on a busy machine)
WORKER_STARTUP_SECONDS = 120


def _port(text: str) -> int:
    value = positive_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port (1-65535)")
    return value


def add_parser(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> argparse.ArgumentParser:
    """``safetyrules serve``: add it to the command's subparsers."""
    defaults = Limits()
    p = subparsers.add_parser(
        "serve",
        help="serve the engine over HTTP (judge records, packs, schemas, forms) and the checklist as a web page",
        description="Start the HTTP service (see docs/service.md): POST /v1/judge, /v1/judge/batch; GET /v1/packs, "
        "/v1/modules, /v1/rules/ID, /v1/schemas/record, /v1/schemas/result, /v1/forms/PACK, /v1/openapi.json, "
        "/v1/healthz, /v1/readyz; the checklist page at /. SIGHUP reloads the rules without dropping requests.",
    )
    p.add_argument(
        "--rules",
        action="append",
        metavar="PACK|PATH",
        help="packs (by name), pack folders or module files; repeat or comma-separate (default: the shipped packs)",
    )
    p.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST}; 0.0.0.0 for all)")
    p.add_argument("--port", type=_port, default=DEFAULT_PORT, help=f"TCP port (default {DEFAULT_PORT})")
    p.add_argument(
        "--workers",
        type=positive_int,
        default=1,
        help="worker processes (default 1); each loads the rules once and serves requests on one core",
    )
    p.add_argument(
        "--max-body",
        type=positive_int,
        default=defaults.max_body_bytes,
        metavar="BYTES",
        help=f"largest body of POST /v1/judge (default {defaults.max_body_bytes})",
    )
    p.add_argument(
        "--max-batch-body",
        type=positive_int,
        default=defaults.max_batch_bytes,
        metavar="BYTES",
        help=f"largest body of POST /v1/judge/batch (default {defaults.max_batch_bytes})",
    )
    p.add_argument(
        "--max-batch-records",
        type=positive_int,
        default=defaults.max_batch_records,
        metavar="N",
        help=f"most records in one batch (default {defaults.max_batch_records})",
    )
    p.add_argument(
        "--reload-endpoint", action="store_true", help="enable POST /v1/admin/reload (put it behind your proxy's access control)"
    )
    p.add_argument(
        "--cors-origin",
        action="append",
        metavar="ORIGIN",
        help="let browser apps of this origin call the API (repeat for several)",
    )
    p.add_argument(
        "--forwarded-allow-ips",
        default=None,
        metavar="IPS",
        help="proxies whose X-Forwarded-* headers are trusted (uvicorn's option; default 127.0.0.1)",
    )
    p.add_argument("--access-log", action="store_true", help="log every request (off by default: the proxy usually does)")
    p.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))
    p.add_argument(
        "--build-page",
        metavar="DIR",
        help="write the checklist page as static files into DIR (with the forms of the loaded packs) and exit",
    )
    p.add_argument("--api", metavar="URL", help="with --build-page: the service the static page judges records on")
    p.set_defaults(func=cmd_serve)
    return p


def cmd_schema_form(args: argparse.Namespace) -> int:
    """``safetyrules schema form --rules PACK [--as-of DATE] [--industry ID]``: the form description."""
    from ..service.form import FormError, form_description

    specs = list(dict.fromkeys(rules_specs(args)))
    rules = load(specs)
    names = [p.name for p in rules.packs]
    wanted = [s for s in specs if s in names] or (names if len(names) == 1 else [])
    if len(wanted) != 1:
        print(
            f"safetyrules: schema form describes one pack: name it with --rules PACK (loaded: {', '.join(names) or 'none'})",
            file=sys.stderr,
        )
        return EXIT_ERROR
    try:
        form = form_description(rules, wanted[0], as_of=getattr(args, "as_of", None), industry=getattr(args, "industry", None))
    except FormError as exc:
        print(f"safetyrules: {exc}", file=sys.stderr)
        return EXIT_ERROR
    sys.stdout.write(json.dumps(form, ensure_ascii=False, indent=2) + "\n")
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from ..service.app import create_app
    except ImportError as exc:
        print(
            f"safetyrules: serve needs the serve extra ({exc.name} is missing): pip install 'safetyrules[serve]'", file=sys.stderr
        )
        return EXIT_ERROR
    try:
        config = ServiceConfig(
            tuple(dict.fromkeys(rules_specs(args))),
            Limits(args.max_body, args.max_batch_body, args.max_batch_records),
            args.reload_endpoint,
            tuple(args.cors_origin or ()),
        )
    except ConfigError as exc:
        print(f"safetyrules: {exc}", file=sys.stderr)
        return EXIT_ERROR
    # loaded here first, so that rules with errors stop the command with their diagnostics (exit 2)
    # instead of failing in every worker
    rules = load(config.specs)
    if args.build_page:
        from ..service.page import build_page

        written = build_page(rules, args.build_page, api=args.api)
        print(f"safetyrules: wrote the checklist page ({len(written)} files) to {args.build_page}", file=sys.stderr)
        return EXIT_OK
    common: Dict[str, Any] = dict(
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=args.access_log,
        log_config=_log_config(),
        proxy_headers=True,
        forwarded_allow_ips=args.forwarded_allow_ips,
        server_header=False,
        timeout_worker_healthcheck=WORKER_STARTUP_SECONDS,
    )
    print(
        f"safetyrules: serving {', '.join(f'{p.name} {p.version}' for p in rules.packs)} on http://{args.host}:{args.port}/ "
        f"(page /, API /v1/, OpenAPI /v1/openapi.json; {args.workers} worker(s))",
        file=sys.stderr,
        flush=True,
    )
    if args.workers == 1:
        app = create_app(
            rules, limits=config.limits, reload_endpoint=config.reload_endpoint, cors_origins=config.cors_origins, env={}
        )
        uvicorn.run(app, **common)
    else:
        # each worker process imports the factory and reads its settings from the environment
        os.environ.update(to_env(config))
        uvicorn.run("safetyrules.service.app:create_app", factory=True, workers=args.workers, **common)
    return EXIT_OK


def _log_config() -> Dict[str, Any]:
    """uvicorn's logging, with the service's own messages (reloads, internal errors) beside its own
    in every worker."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["safetyrules.service"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config
