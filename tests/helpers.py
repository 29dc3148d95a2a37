"""Build small rule modules for tests."""

import json
import os
import threading

from safetyrules import load_rules

HEADER = """\
schema_version: 1
module:
  id: {id}
  series: {series}
  title: {{zh: 测试, en: test}}
  document: {{title: 测试标准, number: 测试第1号, issuer: {{zh: 测试, en: test}}}}
  effective_from: {start}
  effective_until: {until}
  jurisdiction: national
  industry: demo
"""


def module_text(facts: dict, rules: list, *, id="t-mod", series="t", start="2020-01-01", until="null", derived=None, extra=""):
    """A module as YAML text. facts: name -> dict; rules: (id, condition) or dicts."""
    text = HEADER.format(id=id, series=series, start=start, until=until) + extra
    text += "facts:\n"
    for name, spec in facts.items():
        text += f"  {name}: {json.dumps(dict({'label': {'zh': name, 'en': name}}, **spec), ensure_ascii=False)}\n"
    if derived:
        text += "derived:\n"
        for name, expr in derived.items():
            text += f"  {name}: {json.dumps({'expr': expr, 'label': {'zh': name, 'en': name}})}\n"
    text += "rules:\n"
    for i, r in enumerate(rules):
        if isinstance(r, tuple):
            r = {"id": r[0], "when": r[1]}
        r = dict({"citation": {"article": 4, "item": i + 1}, "title": {"zh": r["id"], "en": r["id"]}, "severity": "major"}, **r)
        text += "  - " + json.dumps(r, ensure_ascii=False) + "\n"
    return text


def write_module(tmp_path, name="m.yaml", **kwargs):
    path = os.path.join(str(tmp_path), name)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(module_text(**kwargs))
    return path


def rules_from(tmp_path, backend="native", **kwargs):
    return load_rules(write_module(tmp_path, **kwargs), backend=backend)


def record(facts, date="2024-05-01", **site_attrs):
    return {"record_id": "r", "inspection_date": date, "site": {"industry": "demo", "attributes": site_attrs}, "facts": facts}


def in_threads(work, n=4):
    """``work()``'s results from ``n`` threads run at once; the first exception any raised is raised."""
    results, errors = [None] * n, []

    def run(slot):
        try:
            results[slot] = work()
        except Exception as exc:  # re-raised below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results
