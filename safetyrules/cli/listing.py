"""``safetyrules list``: which modules and rules are loaded, with their citations and effective dates."""

from __future__ import annotations

import argparse
from typing import Any

from .common import EXIT_OK, add_rules_option, load, print_json, rules_specs


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("list", help="list modules and rules with their citations and effective dates")
    p.add_argument("packs", nargs="*", metavar="PACK")
    add_rules_option(p)
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=cmd_list)


def cmd_list(args: argparse.Namespace) -> int:
    rules = load(args.packs or rules_specs(args))
    modules = []
    for cm in rules.ir.modules:
        m = cm.module
        entry = m.summary_json()
        entry["rules"] = [
            {
                "id": r.id,
                "title": r.rule.title.to_json(),
                "citation": r.rule.citation.to_json(),
                "category": r.rule.category.id if r.rule.category else None,
            }
            for r in cm.rules
        ]
        modules.append(entry)
    if args.format == "json":
        print_json({"packs": [p.to_json() for p in rules.packs], "modules": modules})
        return EXIT_OK
    for industry in rules.ir.industries.values():
        attributes = f"; site attributes: {', '.join(industry.attributes)}" if industry.attributes else ""
        print(f"industry {industry.id}: {industry.name.zh} ({industry.name.en}), pack {industry.pack}{attributes}")
    for entry in modules:
        until = entry["effective_until"] or "…"
        print(
            f"{entry['id']}  {entry['effective_from']} – {until}  《{entry['document']['title']}》{entry['document']['number']}  ({len(entry['rules'])} rules)"
        )
        if args.verbose:
            for r in entry["rules"]:
                print(f"    {r['id']}  {r['citation']['locator']}  {r['title']['zh']}")
    return EXIT_OK
