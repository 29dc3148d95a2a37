"""What a service is started with: the rules to load, the limits on requests, whether the reload
endpoint is on.

An ASGI server that imports ``safetyrules.service:create_app`` (uvicorn's ``--factory``, gunicorn with
uvicorn workers) calls it without arguments, in every worker process; the settings then come from
the environment variables below, which ``safetyrules serve`` also sets for its workers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Mapping, Optional, Tuple, TypedDict

ENV_RULES = "SAFETYRULES_SERVICE_RULES"
ENV_MAX_BODY = "SAFETYRULES_SERVICE_MAX_BODY"
ENV_MAX_BATCH_BODY = "SAFETYRULES_SERVICE_MAX_BATCH_BODY"
ENV_MAX_BATCH_RECORDS = "SAFETYRULES_SERVICE_MAX_BATCH_RECORDS"
ENV_RELOAD_ENDPOINT = "SAFETYRULES_SERVICE_RELOAD_ENDPOINT"
ENV_CORS_ORIGINS = "SAFETYRULES_SERVICE_CORS_ORIGINS"

MiB = 1024 * 1024


class ConfigError(ValueError):
    """A setting that cannot be used, named with where it came from."""


@dataclass(frozen=True)
class Limits:
    """The largest requests answered (larger ones get 413 before they are read in full)."""

    #: one record (``POST /v1/judge``): an inspection record of a large mine is about 20 KB
    max_body_bytes: int = 1 * MiB
    #: a batch (``POST /v1/judge/batch``), JSON array or JSON Lines
    max_batch_bytes: int = 16 * MiB
    #: records in one batch
    max_batch_records: int = 10_000

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_batch_bytes", "max_batch_records"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"limit {name} must be a positive integer, got {value!r}")


@dataclass(frozen=True)
class ServiceConfig:
    #: pack names, pack folders or module files (empty: the shipped packs)
    specs: Tuple[str, ...] = ()
    limits: Limits = Limits()
    #: ``POST /v1/admin/reload``; off by default (SIGHUP reloads in any case)
    reload_endpoint: bool = False
    #: origins whose browser apps may call the API (CORS); none by default
    cors_origins: Tuple[str, ...] = ()


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name)
    if text is None or text == "":
        return default
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"{name}={text!r} is not an integer") from None


def from_env(env: Mapping[str, str]) -> ServiceConfig:
    """The settings of a worker started by an ASGI server, from ``SAFETYRULES_SERVICE_*``."""
    specs = tuple(s for s in env.get(ENV_RULES, "").split(",") if s)
    limits = Limits(
        _int(env, ENV_MAX_BODY, Limits.max_body_bytes),
        _int(env, ENV_MAX_BATCH_BODY, Limits.max_batch_bytes),
        _int(env, ENV_MAX_BATCH_RECORDS, Limits.max_batch_records),
    )
    flag = env.get(ENV_RELOAD_ENDPOINT, "").strip().lower()
    if flag not in ("", "0", "1", "true", "false", "yes", "no"):
        raise ConfigError(f"{ENV_RELOAD_ENDPOINT}={flag!r}: use 1 or 0")
    origins = tuple(o.strip() for o in env.get(ENV_CORS_ORIGINS, "").split(",") if o.strip())
    return ServiceConfig(specs, limits, flag in ("1", "true", "yes"), origins)


def to_env(config: ServiceConfig) -> Dict[str, str]:
    """The environment that gives a worker process ``config`` (the inverse of :func:`from_env`)."""
    return {
        ENV_RULES: ",".join(config.specs),
        ENV_MAX_BODY: str(config.limits.max_body_bytes),
        ENV_MAX_BATCH_BODY: str(config.limits.max_batch_bytes),
        ENV_MAX_BATCH_RECORDS: str(config.limits.max_batch_records),
        ENV_RELOAD_ENDPOINT: "1" if config.reload_endpoint else "0",
        ENV_CORS_ORIGINS: ",".join(config.cors_origins),
    }


class LimitsJson(TypedDict):
    """The limits as /v1/health reports them, so that a client can size its requests."""

    max_body_bytes: int
    max_batch_bytes: int
    max_batch_records: int


def describe_limits(limits: Optional[Limits]) -> LimitsJson:
    limits = limits or Limits()
    return {
        "max_body_bytes": limits.max_body_bytes,
        "max_batch_bytes": limits.max_batch_bytes,
        "max_batch_records": limits.max_batch_records,
    }
