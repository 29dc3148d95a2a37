"""The command-line side, called through ``safetyrules.service.command`` as the ``safetyrules`` CLI
will: ``serve``'s options, ``schema form`` (and wiring ``form`` into an existing ``schema`` command)."""

import argparse
import json
from datetime import date

import pytest

from safetyrules.service import command
from safetyrules.service.config import ConfigError, Limits, ServiceConfig, from_env, to_env


def test_serve_options_parse():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    command.add_serve_parser(sub)
    args = parser.parse_args(["serve", "--rules", "mining,construction", "--rules", "power", "--port", "9000",
                              "--workers", "4", "--max-body", "2000", "--reload-endpoint", "--cors-origin", "https://a.example"])
    assert args.func is command.cmd_serve
    assert command._specs(args) == ["mining", "construction", "power"]
    assert (args.port, args.workers, args.max_body, args.reload_endpoint, args.cors_origin) == (9000, 4, 2000, True, ["https://a.example"])
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
    assert command.main(["schema", "form", "--rules", "mining", "--industry", "coal_mine", "--as-of", "2026-09-16"]) == 0
    form = json.loads(capsys.readouterr().out)
    assert form["pack"]["name"] == "mining" and form["as_of"] == "2026-09-16"
    assert [m["id"] for m in form["modules"]] == ["coal-mine-2026"]
    assert command.main(["schema", "form", "--rules", "mining", "--industry", "bakery"]) == 2
    assert "industry 'bakery' is not in pack 'mining'" in capsys.readouterr().err
    assert command.main(["schema", "form", "--rules", "mining,demo"]) == 2
    assert "describes one pack" in capsys.readouterr().err


def test_add_form_schema_wires_form_into_a_schema_command(capsys):
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    p = sub.add_parser("schema")
    p.add_argument("kind", choices=("module", "record", "result"))
    p.add_argument("--rules", action="append")
    p.add_argument("--as-of", type=date.fromisoformat)
    p.add_argument("--industry")
    command.add_form_schema(p)
    command.add_form_schema(p)  # twice is harmless
    args = parser.parse_args(["schema", "form", "--rules", "demo"])
    assert args.kind == command.FORM_KIND and p._actions[1].choices == ("module", "record", "result", "form")
    assert command.cmd_schema_form(args) == 0
    assert json.loads(capsys.readouterr().out)["pack"]["name"] == "demo"


def test_serve_refuses_rules_with_errors(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema_version: 1\nmodule: {id: x}\n", encoding="utf-8")
    assert command.main(["serve", "--rules", str(bad), "--port", "1"]) == 2
    assert "error(s) loading rules" in capsys.readouterr().err
