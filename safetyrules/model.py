"""Immutable data types of loaded rule modules: documents, citations, facts, rules.

These are what the loader produces and what the compiled rule set, the backends, the reports and the
docs generator read. They are frozen so that a compiled rule set can be shared between threads and
pickled to worker processes without copies diverging.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from datetime import date
from typing import Any, Dict, FrozenSet, Mapping, Optional, Tuple, Union, cast

from .errors import Location
from .expr.ast import Expr
from .expr.types import Type
from .report import CitationJson


@dataclass(frozen=True)
class Text:
    """A bilingual label: the Chinese text of the standard and an English gloss."""

    zh: str
    en: str

    def to_json(self) -> Dict[str, str]:
        return dict(self._json)

    @cached_property
    def _json(self) -> Dict[str, str]:
        return {"zh": self.zh, "en": self.en}


@dataclass(frozen=True)
class Document:
    title: str
    number: str
    issuer: Text
    issued: Optional[date] = None
    url: Optional[str] = None
    part: Optional[str] = None

    def to_json(self) -> Dict[str, Any]:
        return {
            "title": self.title,
            "number": self.number,
            "issuer": self.issuer.to_json(),
            "issued": self.issued.isoformat() if self.issued else None,
            "url": self.url,
            "part": self.part,
        }


_CN_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 -> 一, 10 -> 十, 21 -> 二十一, 110 -> 一百一十: how articles and items are numbered."""
    if n <= 0:
        raise ValueError(n)
    if n < 10:
        return _CN_DIGITS[n]
    if n < 20:
        return "十" + (_CN_DIGITS[n % 10] if n % 10 else "")
    if n < 100:
        return _CN_DIGITS[n // 10] + "十" + (_CN_DIGITS[n % 10] if n % 10 else "")
    hundreds, rest = divmod(n, 100)
    if rest == 0:
        return _CN_DIGITS[hundreds] + "百"
    if rest < 10:
        return _CN_DIGITS[hundreds] + "百零" + _CN_DIGITS[rest]
    tail = chinese_number(rest)
    if rest < 20:
        tail = "一" + tail
    return _CN_DIGITS[hundreds] + "百" + tail


@dataclass(frozen=True)
class Citation:
    """Where a criterion stands in its document, exact to the item.

    ``rendered`` is generated from the structure, never typed by hand, so that the same item is
    always cited the same way (e.g. 《煤矿重大事故隐患判定标准》第四条第（一）项).
    """

    document_title: str
    document_number: str
    article: Optional[int] = None
    paragraph: Optional[int] = None
    item: Optional[int] = None
    sub_item: Optional[Union[int, str]] = None
    section: Optional[str] = None
    clause: Optional[str] = None
    table: Optional[str] = None

    @property
    def locator(self) -> str:
        """The position inside the document, without its title: 第四条第（一）项."""
        parts = []
        if self.clause:
            parts.append(self.clause)
        if self.section:
            parts.append(f"{self.section}、")
        if self.article is not None:
            parts.append(f"第{chinese_number(self.article)}条")
        if self.paragraph is not None:
            parts.append(f"第{chinese_number(self.paragraph)}款")
        if self.item is not None:
            parts.append(f"（{chinese_number(self.item)}）" if self.section else f"第（{chinese_number(self.item)}）项")
        if self.sub_item is not None:
            parts.append(str(self.sub_item) if self.section else f"第{self.sub_item}目")
        if self.table:
            parts.append(f"（{self.table}）")
        return "".join(parts)

    @property
    def rendered(self) -> str:
        return f"《{self.document_title}》{self.locator}"

    def to_json(self) -> CitationJson:
        return cast(CitationJson, dict(self._json))  # a copy of the same shape

    @cached_property
    def _json(self) -> CitationJson:
        out = {
            "document": self.document_title,
            "document_number": self.document_number,
            "article": self.article,
            "paragraph": self.paragraph,
            "item": self.item,
            "sub_item": self.sub_item,
            "section": self.section,
            "clause": self.clause,
            "table": self.table,
            "locator": self.locator,
            "rendered": self.rendered,
        }
        # the parts this document does not use are left out, as CitationJson's optional keys allow
        return cast(CitationJson, {k: v for k, v in out.items() if v is not None})


@dataclass(frozen=True)
class Presumption:
    """What an exception may take a fact to be when the record does not say.

    The law puts an exception on the party who claims it ("…的除外"): a mine that does not show it is
    an ageing mine is judged as one that is not. A presumption states that reading with its reason
    and source, so that a report can say which were used and an auditor can turn them off.
    """

    value: bool
    reason: Text
    source: str

    def to_json(self) -> Dict[str, Any]:
        return {"value": self.value, "reason": self.reason.to_json(), "source": self.source}


@dataclass(frozen=True)
class FactSpec:
    """One entry of a module's fact vocabulary."""

    name: str
    type: Type
    label: Text
    module_id: str
    location: Location
    description: str = ""
    unit: Optional[str] = None
    values: Tuple[Tuple[str, Text], ...] = ()
    site: bool = False
    minimum: Optional[float] = None
    maximum: Optional[float] = None
    key: Optional[str] = None
    fields: Tuple["FactSpec", ...] = ()
    #: why a verdict-like boolean stays the inspector's observation (lint: L-RESTATING-FACT)
    judgement: str = ""
    #: the value an exception (``unless:``) takes when the record does not give one
    presumed: Optional[Presumption] = None

    def signature(self) -> Tuple[object, ...]:
        """What two declarations of one fact name must agree on."""
        return (
            self.type.kind,
            self.unit,
            tuple(v for v, _ in self.values),
            self.key,
            tuple(f.signature() + (f.name,) for f in self.fields),
            None if self.presumed is None else self.presumed.value,
        )

    def field(self, name: str) -> Optional["FactSpec"]:
        return self._fields_by_name.get(name)

    @cached_property
    def _fields_by_name(self) -> Dict[str, "FactSpec"]:
        return {f.name: f for f in self.fields}


@dataclass(frozen=True)
class DerivedFact:
    name: str
    expr: Expr
    source_text: str
    label: Text
    module_id: str
    location: Location
    description: str = ""
    source: Optional[str] = None
    reads: FrozenSet[str] = frozenset()


@dataclass(frozen=True)
class Category:
    id: str
    title: Text
    citation: Optional[Citation] = None


@dataclass(frozen=True)
class Threshold:
    fact: str
    term: str
    value: Optional[str] = None
    note: Optional[str] = None


@dataclass(frozen=True)
class ForEach:
    list_name: str
    var: str


@dataclass(frozen=True)
class OverlayChange:
    """A provincial supplement's change to one national rule."""

    rule_id: str
    action: str  # tighten | not_applicable
    reason: str
    citation: Citation
    module_id: str
    location: "Location"
    when: Optional[Expr] = None
    when_text: Optional[str] = None
    thresholds: Tuple[Threshold, ...] = ()

    def to_json(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {
            "module_id": self.module_id,
            "action": self.action,
            "reason": self.reason,
            "citation": self.citation.to_json(),
        }
        if self.when_text:
            out["when"] = self.when_text
        return out


@dataclass(frozen=True)
class RuleException:
    """One exception of a criterion ("…的除外"): the rule is not matched where it holds.

    It has its own citation (the clause that creates it) and its own label, so that a report can
    say which exception kept a hazard out and which presumption ruled an exception out.
    """

    when: Expr
    when_text: str
    label: Text
    citation: Citation
    location: Location
    #: the words of the standard that create the exception, as written
    text: str = ""
    #: set by the compiler: the facts (and list fields, as ``list.field``) this exception reads that have
    #: a presumption, with the presumption its module declares
    presumed: Tuple[Tuple[str, "Presumption"], ...] = ()


@dataclass(frozen=True)
class Rule:
    id: str
    module_id: str
    citation: Citation
    title: Text
    when: Expr
    when_text: str
    location: Location
    category: Optional[Category] = None
    description: str = ""
    applies_if: Optional[Expr] = None
    applies_if_text: Optional[str] = None
    for_each: Optional[ForEach] = None
    thresholds: Tuple[Threshold, ...] = ()
    severity: str = "major"
    notes: str = ""
    reads: FrozenSet[str] = frozenset()  # facts and derived facts read directly
    #: set on the variant of a national rule that a provincial supplement changed
    overlay: Optional[OverlayChange] = None
    #: position of the rule in its module file's ``rules:`` list (for locating errors)
    source_index: int = 0
    #: the criterion's exceptions: it is matched where ``when`` holds and none of these does
    unless: Tuple[RuleException, ...] = ()
    #: set by the compiler for a rule with exceptions: ``when`` and no exception, the exceptions
    #: reading each unrecorded fact that has a presumption as presumed (``decision``) or not (``strict_decision``)
    decision: Optional[Expr] = None
    strict_decision: Optional[Expr] = None

    @property
    def decides(self) -> Expr:
        """The condition a backend decides: ``when``, with the exceptions where the rule has any."""
        return self.when if self.decision is None else self.decision


@dataclass(frozen=True)
class Jurisdiction:
    level: str  # national | province
    province: Optional[str] = None
    code: Optional[str] = None

    def to_json(self) -> Union[str, Dict[str, Optional[str]]]:
        return "national" if self.level == "national" else {"province": self.province, "code": self.code}


@dataclass(frozen=True)
class Confidence:
    level: str
    notes: str = ""
    unverified: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Module:
    id: str
    series: str
    title: Text
    document: Document
    effective_from: date
    jurisdiction: Jurisdiction
    industries: Tuple[str, ...]
    path: str
    location: Location
    version: Optional[str] = None
    effective_until: Optional[date] = None
    supersedes: Optional[str] = None
    superseded_by: Optional[str] = None
    scope: Optional[Expr] = None
    scope_text: Optional[str] = None
    imports: Tuple[str, ...] = ()
    extends: Optional[str] = None
    threshold_reading: Mapping[str, str] = field(default_factory=dict)
    confidence: Optional[Confidence] = None
    completeness: str = "complete"
    completeness_notes: str = ""
    #: why this document's verdict-like facts stay the inspector's judgement (lint reports them as notes)
    judgement: str = ""
    sources: Tuple[Tuple[str, Optional[str]], ...] = ()
    illustration: bool = False
    facts: Tuple[FactSpec, ...] = ()
    derived: Tuple[DerivedFact, ...] = ()
    categories: Tuple[Category, ...] = ()
    rules: Tuple[Rule, ...] = ()
    overlay: Tuple[OverlayChange, ...] = ()
    pack: Optional[str] = None

    def in_force(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_until is None or day <= self.effective_until)

    def summary_json(self) -> Dict[str, Any]:
        return dict(self._summary_json)

    @cached_property
    def _summary_json(self) -> Dict[str, Any]:
        return {
            "id": self.id,
            "series": self.series,
            "version": self.version,
            "title": self.title.to_json(),
            "document": self.document.to_json(),
            "effective_from": self.effective_from.isoformat(),
            "effective_until": self.effective_until.isoformat() if self.effective_until else None,
            "jurisdiction": self.jurisdiction.to_json(),
            "completeness": self.completeness,
            "pack": self.pack,
        }


@dataclass(frozen=True)
class Pack:
    name: str
    version: str
    title: Text
    path: str
    module_ids: Tuple[str, ...]
    test_files: Tuple[str, ...] = ()
    description: str = ""
    #: the industries this pack declares (its own and those of the packs it includes)
    industries: Tuple["Industry", ...] = ()

    def to_json(self) -> Dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "title": self.title.to_json(),
            "modules": list(self.module_ids),
            "industries": [i.to_json() for i in self.industries],
        }


@dataclass(frozen=True)
class Industry:
    """An industry that records can name as ``site.industry``, declared by a pack's manifest.

    Industries belong to packs, not to the core: a third-party pack adds one by declaring it. Two packs
    may share an industry only by declaring the same definition (the location is not part of it).
    """

    id: str
    name: Text
    #: site facts (``site: true``) that tell sub-sectors or special operations apart, in form order
    attributes: Tuple[str, ...] = ()
    pack: str = ""
    location: Optional[Location] = field(default=None, compare=False)

    def definition(self) -> Tuple[str, Text, Tuple[str, ...]]:
        return (self.id, self.name, self.attributes)

    def to_json(self) -> Dict[str, Any]:
        return {"id": self.id, "name": self.name.to_json(), "attributes": list(self.attributes)}


#: Default reading of threshold words (民法典第1259条; 刑法第99条): these include the number ...
INCLUSIVE_TERMS = (
    "以上",
    "以下",
    "以内",
    "届满",
    "达到",
    "达",
    "不少于",
    "不超过",
    "不低于",
    "不大于",
    "不小于",
    "及以上",
    "及以下",
)
#: ... and these exclude it.
EXCLUSIVE_TERMS = ("超过", "大于", "小于", "不满", "低于", "不足", "以外", "高于", "多于", "少于", "超出")


def default_threshold_reading() -> Dict[str, str]:
    reading = {t: "inclusive" for t in INCLUSIVE_TERMS}
    reading.update({t: "exclusive" for t in EXCLUSIVE_TERMS})
    return reading
