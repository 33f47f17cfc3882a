"""What is held about me: the person's own records as finished views, for their pages and the JSON twins.

A card per category says what it is, where it comes from, who receives it and why, how long it is kept and how
many records there are; a category's page shows its records in the shape that suits them (a timeline of
employments, a table per quarter, flexi wages per month against the year's ceiling …).

A person reading their own records is not an access by anyone else: nothing here writes to the access log.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from gettext import NullTranslations
from typing import Final, TypeVar
from uuid import UUID

import asyncpg

from backend.access_log.views import PURPOSE_LABELS, capitalised, speaking
from backend.core.i18n import Language, _, current_catalogue
from backend.records import citizen_queries
from backend.records.categories.base import Category, Recipient
from backend.records.citizen_describing import Describing, category_path, known_employers
from backend.records.citizen_format import euro, moment_day, percent, share
from backend.records.citizen_format import quarter as quarter_label
from backend.records.citizen_queries import CategorySummary
from backend.records.citizen_records import describe_record
from backend.records.citizen_schemas import (
    A1Entry,
    CategoryCard,
    CategoryPage,
    CeilingView,
    DimonaEntry,
    DmfaEntry,
    DmfaQuarter,
    DrsEntry,
    FlexiMonth,
    FlexiYear,
    GenericEntry,
    IdentityEntry,
    LimosaEntry,
    RecipientView,
    RecordsOverview,
    RecordView,
)
from backend.records.error_reports import badges_by_record
from backend.records.flexi import flexi_ceiling_for_year
from backend.records.registry import REGISTRY, Registry
from backend.records.schemas import FlexiCounter

# The institutions-with-purposes documents this process has read, by (reference data version, institution codes).
# A version number is never reused (migration 0013), so an entry can only ever be right for its key; a handful
# of versions and code sets exist at any time, and the map is emptied should that ever not hold.
_REFERENCE_DOCUMENTS: dict[tuple[int, tuple[str, ...]], str] = {}
_REFERENCE_DOCUMENTS_KEPT: Final = 64


async def _reference_document(conn: asyncpg.Connection, codes: tuple[str, ...], version: int | None) -> str:
    """The institutions-with-purposes document: the one kept for `version` when there is one, else read now."""
    if version is not None:
        kept = _REFERENCE_DOCUMENTS.get((version, codes))
        if kept is not None:
            return kept
    read = await citizen_queries.select_institutions_with_purposes(conn, codes)
    if len(_REFERENCE_DOCUMENTS) >= _REFERENCE_DOCUMENTS_KEPT:
        _REFERENCE_DOCUMENTS.clear()
    # Kept under the version read with it: when a change was committed between the caller's statement and this
    # one, this is the newer data, and the next request (which reads the newer version) finds it.
    _REFERENCE_DOCUMENTS[(read.version, codes)] = read.document
    return read.document


async def recipients_by_category(
    conn: asyncpg.Connection, categories: Sequence[Category], language: str, *, reference_version: int | None = None
) -> dict[str, list[RecipientView]]:
    """Who receives each category and why: the registry's recipients, with their registered purpose's legal basis.

    A recipient is "in effect" only when the institution has an active purpose that covers the category: the same
    two conditions an institution's look-up must meet. Given the current `reference_version` (read in the
    caller's own statement), the institutions and purposes are not read again unless they changed.
    """
    codes = tuple(sorted({recipient.institution for category in categories for recipient in category.recipients}))
    # Institutions and their active purposes in one round trip, only when their version is new to this process;
    # the views are made once per version of that reference data, language and set of categories.
    document = await _reference_document(conn, codes, reference_version)
    recipients = tuple((category.code, category.recipients) for category in categories)
    views = _recipient_views(current_catalogue(), language, recipients, document)
    return {code: list(found) for code, found in views.items()}


@functools.lru_cache(maxsize=256)
def _recipient_views(
    catalogue: NullTranslations,
    language: str,
    categories: tuple[tuple[str, tuple[Recipient, ...]], ...],
    document: str,
) -> dict[str, tuple[RecipientView, ...]]:
    # Keyed by the catalogue gettext reads now (a new one whenever catalogues load), as views._translated is.
    rows = citizen_queries.institutions_with_purposes(document)
    institutions = {org.code: org for org, _ in rows}
    purposes = {(purpose.org_id, purpose.code): purpose for _, purpose in rows if purpose is not None}
    found: dict[str, tuple[RecipientView, ...]] = {}
    for code, recipients in categories:
        views = []
        for recipient in recipients:
            organisation = institutions.get(recipient.institution)
            for purpose_code in recipient.purposes:
                purpose = None if organisation is None else purposes.get((organisation.org_id, purpose_code))
                # A purpose registered for other categories is no legal basis for this one.
                if purpose is not None and code not in purpose.categories:
                    purpose = None
                label = PURPOSE_LABELS.get(purpose_code)
                views.append(
                    RecipientView(
                        institution_code=recipient.institution,
                        institution=recipient.institution if organisation is None else organisation.name(language),
                        purpose_code=purpose_code,
                        purpose=None if label is None else capitalised(catalogue.gettext(label)),
                        legal_basis=None if purpose is None else purpose.legal_basis(language),
                        authorisation_ref=None if purpose is None else purpose.authorisation_ref,
                        in_effect=purpose is not None,
                    )
                )
        found[code] = tuple(views)
    return found


def category_card(
    category: Category, summary: CategorySummary | None, recipients: list[RecipientView], language: str
) -> CategoryCard:
    """A category's card: what it is in plain words, its source, recipients, retention and the person's count."""
    last = None if summary is None else summary.last_declared_at
    return CategoryCard(
        code=category.code,
        title=category.title.get(language),
        explanation=category.explanation.get(language),
        source_code=category.source,
        source=category.source_name.get(language),
        legal_basis=category.legal_basis.get(language),
        recipients=recipients,
        retention=category.retention.get(language),
        retention_confirmed=category.retention_confirmed,
        record_count=0 if summary is None else summary.active_records,
        last_update_at=last,
        last_update=None if last is None else moment_day(last, language),
        url=category_path(category.code),
    )


async def _cards(
    conn: asyncpg.Connection, citizen_id: UUID, categories: Sequence[Category], language: str
) -> dict[str, CategoryCard]:
    counts = await citizen_queries.select_category_summaries(conn, citizen_id)
    summaries = {summary.category: summary for summary in counts.summaries}
    recipients = await recipients_by_category(conn, categories, language, reference_version=counts.reference_version)
    return {
        category.code: category_card(category, summaries.get(category.code), recipients[category.code], language)
        for category in categories
    }


async def records_overview(
    conn: asyncpg.Connection,
    citizen_id: UUID,
    *,
    language: Language,
    registry: Registry = REGISTRY,
    only: Sequence[str] | None = None,
) -> RecordsOverview:
    """A card for every category (or `only` those, for a helper), in the registry's order, with what the person
    has in each."""
    categories = registry.all() if only is None else [c for c in registry.all() if c.code in only]
    with speaking(language):
        cards = await _cards(conn, citizen_id, categories, language)
    return RecordsOverview(
        categories=list(cards.values()), total_records=sum(card.record_count for card in cards.values())
    )


def ceiling_view(total_cents: int, year: int, language: str) -> CeilingView | None:
    """A year's flexi total against that year's ceiling ("€15,300 of €18,000 (85%)"); None before ceilings."""
    ceiling = flexi_ceiling_for_year(year)
    if ceiling is None:
        return None
    whole = share(total_cents, ceiling.amount_cents)
    excess = max(total_cents - ceiling.amount_cents, 0)
    return CeilingView(
        amount_cents=ceiling.amount_cents,
        amount=euro(ceiling.amount_cents, language, whole=True),
        status=ceiling.status,
        provisional=ceiling.provisional,
        percent=whole,
        progress=_("%(total)s of %(ceiling)s (%(percent)s)")
        % {
            "total": euro(total_cents, language, whole=True),
            "ceiling": euro(ceiling.amount_cents, language, whole=True),
            "percent": percent(whole, language),
        },
        over=excess > 0,
        excess_cents=excess,
        excess=euro(excess, language) if excess else None,
    )


def flexi_years(months: Sequence[FlexiMonth], counters: Sequence[FlexiCounter], language: str) -> list[FlexiYear]:
    """Flexi wages per income year, newest first: the months in order, the total (the counter kept at ingest),
    the ceiling, and "as of" the latest declaration for that year."""
    counters_by_year = {counter.income_year: counter for counter in counters}
    by_year: dict[int, list[FlexiMonth]] = {}
    for entry in months:
        by_year.setdefault(int(entry.month[:4]), []).append(entry)
    years = []
    for year in sorted(by_year, reverse=True):
        entries = sorted(by_year[year], key=lambda entry: (entry.month, entry.employer.label.casefold()))
        counter = counters_by_year.get(year)
        total = sum(entry.amount_cents for entry in entries) if counter is None else counter.total_cents
        as_of = max(entry.declared_at for entry in entries) if counter is None else counter.as_of
        years.append(
            FlexiYear(
                year=year,
                total_cents=total,
                total=euro(total, language),
                ceiling=ceiling_view(total, year, language),
                as_of_at=as_of,
                as_of=moment_day(as_of, language),
                months=entries,
            )
        )
    return years


def dmfa_quarters(entries: Sequence[DmfaEntry], language: str) -> list[DmfaQuarter]:
    """DmfA declarations grouped per quarter, newest quarter first."""
    by_quarter: dict[str, list[DmfaEntry]] = {}
    for entry in entries:
        by_quarter.setdefault(entry.quarter, []).append(entry)
    ordered = sorted(by_quarter, key=lambda value: tuple(int(part) for part in value.split("-")), reverse=True)
    return [
        DmfaQuarter(
            quarter=value,
            label=quarter_label(value, language),
            declarations=sorted(by_quarter[value], key=lambda entry: entry.employer.label.casefold()),
        )
        for value in ordered
    ]


_Dated = TypeVar("_Dated", DimonaEntry, LimosaEntry, A1Entry, DrsEntry)


def _newest_first(entries: Sequence[RecordView], kind: type[_Dated]) -> list[_Dated]:
    found = [entry for entry in entries if isinstance(entry, kind)]
    return sorted(found, key=lambda entry: entry.period.start, reverse=True)


def _page(
    card: CategoryCard, entries: Sequence[RecordView], counters: Sequence[FlexiCounter], language: str
) -> CategoryPage:
    return CategoryPage(
        card=card,
        dimona=_newest_first(entries, DimonaEntry),
        dmfa=dmfa_quarters([entry for entry in entries if isinstance(entry, DmfaEntry)], language),
        flexi_wages=flexi_years([entry for entry in entries if isinstance(entry, FlexiMonth)], counters, language),
        limosa=_newest_first(entries, LimosaEntry),
        a1=_newest_first(entries, A1Entry),
        drs=_newest_first(entries, DrsEntry),
        identity=[entry for entry in entries if isinstance(entry, IdentityEntry)],
        other=[entry for entry in entries if isinstance(entry, GenericEntry)],
    )


async def category_pages(
    conn: asyncpg.Connection,
    citizen_id: UUID,
    codes: Sequence[str],
    *,
    language: Language,
    registry: Registry = REGISTRY,
) -> list[CategoryPage]:
    """Categories in full, in the order given (unknown codes are left out): cards and records in plain words."""
    categories = [category for code in codes if (category := registry.get(code)) is not None]
    with speaking(language):
        cards = await _cards(conn, citizen_id, categories, language)
        records = await citizen_queries.select_active_own_records(conn, citizen_id, [c.code for c in categories])
        context = Describing(
            language=language,
            employers=await known_employers(conn, records),
            badges=await badges_by_record(conn, citizen_id, [record.record_id for record in records], language),
        )
        counters = (
            await citizen_queries.select_flexi_counters(conn, citizen_id)
            if any(category.code == "flexi_wages" for category in categories)
            else []
        )
        pages = []
        for category in categories:
            entries = [
                describe_record(record, context, registry=registry)
                for record in records
                if record.category == category.code
            ]
            pages.append(_page(cards[category.code], entries, counters, language))
    return pages


async def own_record_view(
    conn: asyncpg.Connection, citizen_id: UUID, record_id: UUID, *, language: Language, registry: Registry = REGISTRY
) -> RecordView | None:
    """One of the person's records in plain words, with its latest error report (None when it is not theirs)."""
    record = await citizen_queries.select_own_record(conn, citizen_id, record_id)
    if record is None:
        return None
    with speaking(language):
        context = Describing(
            language=language,
            employers=await known_employers(conn, [record]),
            badges=await badges_by_record(conn, citizen_id, [record.record_id], language),
        )
        return describe_record(record, context, registry=registry)


async def category_page(
    conn: asyncpg.Connection, citizen_id: UUID, code: str, *, language: Language, registry: Registry = REGISTRY
) -> CategoryPage | None:
    """One category in full, or None for a category that does not exist."""
    pages = await category_pages(conn, citizen_id, [code], language=language, registry=registry)
    return pages[0] if pages else None


__all__ = [
    "category_card",
    "category_page",
    "category_pages",
    "ceiling_view",
    "dmfa_quarters",
    "flexi_years",
    "own_record_view",
    "recipients_by_category",
    "records_overview",
]
