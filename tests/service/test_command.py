"""The command-line side of the service: ``serve``'s options, ``schema form``."""

import argparse
import json

import pytest

from safetyrules.cli import main
from safetyrules.cli import serve as command
from safetyrules.service.config import ConfigError, Limits, ServiceConfig, from_env, to_env


def test_serve_options_parse():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    command.add_parser(sub)
    args = parser.parse_args(
        [
            "serve",
            "--rules",
            "mining,construction",
            "--rules",
            "power",
            "--port",
            "9000",
            "--workers",
            "4",
            "--max-body",
            "2000",
            "--reload-endpoint",
            "--cors-origin",
            "https://a.example",
        ]
    )
    assert args.func is command.cmd_serve
    assert command.rules_specs(args) == ["mining", "construction", "power"]
    assert (args.port, args.workers, args.max_body, args.reload_endpoint, args.cors_origin) == (
        9000,
        4,
        2000,
        True,
        ["https://a.example"],
    )
    assert args.host == "127.0.0.1" and args.max_batch_records == Limits().max_batch_records
    for bad in (["serve", "--workers", "0"], ["serve", "--port", "70000"], ["serve", "--max-body", "lots"]):
        with pytest.raises(SystemExit):
            parser.parse_args(bad)


def test_settings_go_to_workers_through_the_environment():
    config = ServiceConfig(("mining", "power"), Limits(10, 20, 30), True, ("https://a.example",))
    assert from_env(to_env(config)) == config
    assert from_env({}) == ServiceConfig()
    with pytest.raises(ConfigError, match="SAFETYRULES_SERVICE_MAX_BODY='big' is not an integer"):
        from_env({"SAFETYRULES_SERVICE_MAX_BODY": "big"})
    with pytest.raises(ConfigError, match="max_batch_records must be a positive integer"):
        from_env({"SAFETYRULES_SERVICE_MAX_BATCH_RECORDS": "0"})


def test_schema_form_through_main(capsys):
    assert main(["schema", "form", "--rules", "mining", "--industry", "coal_mine", "--as-of", "2026-09-16"]) == 0
    form = json.loads(capsys.readouterr().out)
    assert form["pack"]["name"] == "mining" and form["as_of"] == "2026-09-16"
    assert [m["id"] for m in form["modules"]] == ["coal-mine-2026"]
    assert main(["schema", "form", "--rules", "mining", "--industry", "bakery"]) == 2
    assert "industry 'bakery' is not in pack 'mining'" in capsys.readouterr().err
    assert main(["schema", "form", "--rules", "mining,demo"]) == 2
    assert "describes one pack" in capsys.readouterr().err


def test_serve_refuses_rules_with_errors(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema_version: 1\nmodule: {id: x}\n", encoding="utf-8")
    assert main(["serve", "--rules", str(bad), "--port", "1"]) == 2
    assert "error(s) loading rules" in capsys.readouterr().err
