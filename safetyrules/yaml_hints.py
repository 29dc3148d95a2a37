"""Hints for the YAML pitfalls of hand-written modules, added to the loader's diagnostics.

The documented flow style (``title: {zh: …, en: …}``) is compact, but plain (unquoted) YAML values
have traps that turn a typo into a puzzling message far from its cause:

* an ASCII comma ends a flow value: ``{en: inerting, or suppression}`` makes a key ``or suppression``;
* ``: `` inside a plain value starts a mapping (``en: note: x``);
* `` #`` starts a comment, so ``en: No. 3 #A}`` drops the rest of the line (and the closing brace);
* a leading ``*`` or ``&`` is an alias or an anchor (``zh: *重要``);
* ``yes``/``no``/``on``/``off``/``true``/``false`` are booleans, ``2026`` and ``1.10`` are numbers,
  and an empty value is null, where the schema wants text.

Each hint says which of these it is and how to quote the value. The diagnostics keep their codes and
locations; only the message grows.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, Optional, Sequence

from .errors import Diagnostic

QUOTE = 'quote the value: en: "…" (or zh: "…")'


def unknown_key_hint(key: Any, value: Any, allowed: Sequence[str]) -> str:
    """For an unknown key: the shape an unquoted comma leaves (a key with no value beside zh/en)."""
    if value is None and ("zh" in allowed or "en" in allowed) and isinstance(key, str):
        return (
            f" (an unquoted ',' ends a value inside {{zh: …, en: …}}: the text after it became the key "
            f"{key!r}; {QUOTE}, or use the full-width '，' in Chinese text)"
        )
    if value is None and isinstance(key, str) and " " in key.strip():
        return " (a comma inside an unquoted flow value splits it: quote the value)"
    return ""


def type_hint(instance: Any, expected: Any) -> str:
    """For a type error where the schema wants a string: why YAML made it something else."""
    wants_string = expected == "string" or (isinstance(expected, list) and "string" in expected)
    if not wants_string:
        return ""
    if isinstance(instance, bool):
        return f" (unquoted yes/no/on/off/true/false are booleans in YAML: {QUOTE.replace('…', 'no')})"
    if isinstance(instance, (int, float)):
        return f' (an unquoted number is a number in YAML: quote it, e.g. "{instance}"; 1.10 unquoted would also lose its 0)'
    if instance is None:
        return " (the value is empty: nothing was written, or a ' #' started a comment, or a leading '*' or '&' was read as an alias or anchor; quote the text)"
    return ""


_ALIAS = re.compile(r"(scanning|found undefined) an? ?(alias|anchor)|found undefined alias")


def yaml_error_hint(diagnostic: Diagnostic, lines: Optional[Sequence[str]]) -> Diagnostic:
    """A YAML syntax error with a hint for the pitfall on its line (or the line before, where a
    comment swallowed a closing brace)."""
    message = diagnostic.message
    line_no = diagnostic.location.line
    if not line_no or not lines:
        return diagnostic
    candidates = [lines[i - 1] for i in (line_no, line_no - 1) if 0 < i <= len(lines)]
    hint = ""
    if "alias" in message or "anchor" in message:
        hint = "a plain value starting with '*' is an alias and with '&' an anchor: quote the value (zh: \"*…\")"
    else:
        codes = [_unquoted(text) for text in candidates]
        if any(" #" in code and "{" in code[: code.find(" #")] for code in codes):
            hint = "' #' starts a comment even inside {…}: the rest of the line (and its '}') was dropped; quote the value (en: \"No. 3 #A\")"
        else:
            for code in codes:
                inside = code[code.find("{") :] if "{" in code else ""
                if _TWO_COLONS.search(inside):
                    hint = "': ' inside a plain value starts a mapping: quote the value (en: \"note: …\")"
                    break
    if not hint:
        return diagnostic
    return replace(diagnostic, message=f"{message} (hint: {hint})")


#: two ': ' in one flow value (no ',', brace or bracket between them): ``en: note: x``
_TWO_COLONS = re.compile(r":\s[^,{}\[\]]*?:\s")


def _unquoted(text: str) -> str:
    """The line with its quoted parts blanked, so that quoted ':' and '#' are not taken for pitfalls."""
    return re.sub(r"\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^']|'')*'", lambda m: '""', text)
