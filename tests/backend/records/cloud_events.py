"""CloudEvents and payloads for the records tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

DECLARATIONS = "/api/v1/declarations"
LOOKUPS = "/api/v1/lookups"


def event(
    subject: str,
    event_id: str,
    category: str = "flexi_wages",
    data: Any = None,
    *,
    source: str = "/onss/test",
    time: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A CloudEvent declaring `data` about the person with national number `subject`."""
    item: dict[str, Any] = {
        "specversion": "1.0",
        "id": event_id,
        "source": source,
        "type": f"be.socialsecurity.{category}.v1",
        "subject": subject,
        "time": time or datetime.now(UTC).isoformat(),
        **extra,
    }
    if data is not None:
        item["data"] = data
    return item


def flexi(employer: str, month: str, amount: int, **extra: Any) -> dict[str, Any]:
    """Flexi wages data."""
    return {"employer_kbo": employer, "month": month, "amount_cents": amount, **extra}


def dimona(employer: str, start: str = "2026-01-05", **extra: Any) -> dict[str, Any]:
    """Dimona data for a flexi-job."""
    return {"employer_kbo": employer, "worker_type": "FLX", "start": start, **extra}


def bad_check_digits(number: str) -> str:
    """The same number with wrong check digits."""
    return number[:-2] + f"{(int(number[-2:]) + 1) % 100:02d}"


def errors_of(item: dict[str, Any]) -> dict[str, str]:
    """An answered item's errors by field."""
    return {error["field"]: error["message"] for error in item["errors"]}
