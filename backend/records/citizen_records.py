"""Each record in plain words: one view per category, built from its stored payload.

A payload is read back through its category's Struct; a category without a view of its own here (one added
later) or a payload that no longer reads is shown field by field, so adding a category never breaks the page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import msgspec

from backend.core.i18n import _, gettext
from backend.records.categories.a1 import A1Payload
from backend.records.categories.base import decode_hook
from backend.records.categories.dimona import DimonaPayload
from backend.records.categories.dmfa import DmfaPayload
from backend.records.categories.drs import DrsPayload
from backend.records.categories.flexi_wages import FlexiWagesPayload
from backend.records.categories.identity import IdentityPayload
from backend.records.categories.limosa import LimosaPayload
from backend.records.citizen_describing import (
    SCENARIO_LABELS,
    Describing,
    employer,
    period_span,
    period_view,
    record_base,
    worker_type_label,
)
from backend.records.citizen_format import (
    country,
    day,
    euro,
    hundredths,
    language_label,
    moment_day,
    month,
    percent,
    quarter,
    share,
)
from backend.records.citizen_queries import OwnRecord
from backend.records.citizen_schemas import (
    A1Entry,
    AmountLine,
    DimonaEntry,
    DmfaEntry,
    DrsEntry,
    FlexiMonth,
    GenericEntry,
    IdentityEntry,
    LimosaEntry,
    RecordView,
    payload_fields,
)
from backend.records.registry import REGISTRY, Registry


def _dimona(record: OwnRecord, payload: Any, context: Describing) -> DimonaEntry:
    data: DimonaPayload = payload
    who = employer(data.employer_kbo, context)
    kind = worker_type_label(data.worker_type)
    period = period_view(data.start, data.end, context.language)
    summary = _("%(employer)s, %(type)s, %(period)s") % {
        "employer": who.label,
        "type": kind,
        "period": period_span(period),
    }
    return DimonaEntry(
        **record_base(record, context, summary),
        employer=who,
        worker_type=data.worker_type,
        worker_type_label=kind,
        period=period,
        joint_committee=data.joint_committee,
        planned_hours=None if data.planned_hours is None else hundredths(data.planned_hours, context.language),
    )


def _dmfa(record: OwnRecord, payload: Any, context: Describing) -> DmfaEntry:
    data: DmfaPayload = payload
    language = context.language
    who = employer(data.employer_kbo, context)
    days = sum(service.days for occupation in data.occupations for service in occupation.services)
    hours = sum(service.hours for occupation in data.occupations for service in occupation.services)
    by_code: dict[str, int] = {}
    for occupation in data.occupations:
        for remuneration in occupation.remunerations:
            by_code[remuneration.code] = by_code.get(remuneration.code, 0) + remuneration.amount_cents
    pay = sum(by_code.values())
    single = data.occupations[0] if len(data.occupations) == 1 else None
    summary = _("%(quarter)s, %(employer)s: %(pay)s") % {
        "quarter": quarter(data.quarter, language),
        "employer": who.label,
        "pay": euro(pay, language),
    }
    return DmfaEntry(
        **record_base(record, context, summary),
        quarter=data.quarter,
        employer=who,
        worker_code=data.worker_code,
        joint_committees=sorted({occupation.joint_committee for occupation in data.occupations}),
        days_hundredths=days,
        days=hundredths(days, language),
        hours_hundredths=hours,
        hours=hundredths(hours, language),
        working_time=None if single is None else percent(share(single.mean_hours, single.reference_hours), language),
        pay_cents=pay,
        pay=euro(pay, language),
        remunerations=[
            AmountLine(code=code, amount_cents=amount, amount=euro(amount, language))
            for code, amount in sorted(by_code.items())
        ],
    )


def _flexi(record: OwnRecord, payload: Any, context: Describing) -> FlexiMonth:
    data: FlexiWagesPayload = payload
    who = employer(data.employer_kbo, context)
    label = month(data.month, context.language)
    amount = euro(data.amount_cents, context.language)
    summary = _("%(month)s, %(employer)s: %(amount)s") % {"month": label, "employer": who.label, "amount": amount}
    return FlexiMonth(
        **record_base(record, context, summary),
        month=data.month,
        month_label=label,
        employer=who,
        amount_cents=data.amount_cents,
        amount=amount,
    )


def _limosa(record: OwnRecord, payload: Any, context: Describing) -> LimosaEntry:
    data: LimosaPayload = payload
    period = period_view(data.start, data.end, context.language)
    place = data.workplace
    workplace = ", ".join(
        part for part in (place.name, place.street, f"{place.postal_code} {place.municipality}") if part
    )
    summary = _("Posted to Belgium by %(employer)s, %(period)s") % {
        "employer": data.foreign_employer_name,
        "period": period_span(period),
    }
    return LimosaEntry(
        **record_base(record, context, summary),
        foreign_employer=data.foreign_employer_name,
        foreign_employer_country=country(data.foreign_employer_country, context.language),
        belgian_user=employer(data.belgian_user_kbo, context),
        period=period,
        workplace=workplace,
        sector=data.sector,
        l1_receipt_number=data.l1_receipt_number,
    )


def _a1(record: OwnRecord, payload: Any, context: Describing) -> A1Entry:
    data: A1Payload = payload
    who = employer(data.employer_kbo, context)
    destination = country(data.destination_country, context.language)
    period = period_view(data.start, data.end, context.language)
    summary = _("Posted to %(country)s by %(employer)s, %(period)s") % {
        "country": destination,
        "employer": who.label,
        "period": period_span(period),
    }
    return A1Entry(
        **record_base(record, context, summary),
        destination_country=data.destination_country,
        destination=destination,
        employer=who,
        period=period,
    )


def _drs(record: OwnRecord, payload: Any, context: Describing) -> DrsEntry:
    data: DrsPayload = payload
    who = employer(data.employer_kbo, context)
    scenario = gettext(SCENARIO_LABELS[data.scenario])
    period = period_view(data.start, data.end, context.language)
    summary = _("%(risk)s, declared by %(employer)s, %(period)s") % {
        "risk": scenario,
        "employer": who.label,
        "period": period_span(period),
    }
    return DrsEntry(
        **record_base(record, context, summary),
        scenario=data.scenario,
        scenario_label=scenario,
        employer=who,
        period=period,
    )


def _identity(record: OwnRecord, payload: Any, context: Describing) -> IdentityEntry:
    data: IdentityPayload = payload
    name = f"{data.given_name} {data.family_name}"
    address = None
    if data.address is not None:
        where = data.address
        parts = [where.street, f"{where.postal_code} {where.municipality}"]
        if where.country != "BE":
            parts.append(country(where.country, context.language))
        address = ", ".join(parts)
    born = day(data.birth_date, context.language)
    summary = _("%(name)s, born on %(date)s") % {"name": name, "date": born}
    return IdentityEntry(
        **record_base(record, context, summary),
        name=name,
        birth_date=data.birth_date,
        birth_date_label=born,
        language=language_label(data.language, context.language),
        address=address,
    )


_Builder = Callable[[OwnRecord, Any, Describing], RecordView]
BUILDERS: Final[dict[str, _Builder]] = {
    "dimona": _dimona,
    "dmfa": _dmfa,
    "flexi_wages": _flexi,
    "limosa": _limosa,
    "a1": _a1,
    "drs": _drs,
    "identity": _identity,
}


def generic_entry(record: OwnRecord, context: Describing) -> GenericEntry:
    """A record shown field by field, as it was declared."""
    summary = _("Declared on %(date)s") % {"date": moment_day(record.occurred_at, context.language)}
    return GenericEntry(**record_base(record, context, summary), fields=payload_fields(record.payload))


def describe_record(record: OwnRecord, context: Describing, *, registry: Registry = REGISTRY) -> RecordView:
    """One record in plain words, in the view of its category (field by field when it has none)."""
    category = registry.get(record.category)
    builder = BUILDERS.get(record.category)
    if category is None or builder is None or record.payload is None:
        return generic_entry(record, context)
    try:
        payload = msgspec.convert(record.payload, category.schema, dec_hook=decode_hook)
    except msgspec.ValidationError:
        # Stored under an older version of the Struct: still shown, as declared.
        return generic_entry(record, context)
    return builder(record, payload, context)


__all__ = ["BUILDERS", "describe_record", "generic_entry"]
