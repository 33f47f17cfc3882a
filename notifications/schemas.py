"""Notifications as stored and shown: outbox rows, notices, deliveries, preferences and person statuses."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any, Final, Literal, get_args
from uuid import UUID

import msgspec

from backend.core.i18n import Language

Channel = Literal["inbox", "email", "push"]
# The channels a person may switch per kind; the inbox is not a choice.
OptionalChannel = Literal["email", "push"]
DeliveryStatus = Literal["pending", "sending", "sent", "failed"]
Kind = Literal["flexi_ceiling", "flexi_pension_limit", "mandate_expiring", "access_alert", "contest_answered"]
KINDS: Final[tuple[Kind, ...]] = get_args(Kind)
# Channels switchable on the preferences page today (push comes later).
SWITCHABLE_CHANNELS: Final[tuple[OptionalChannel, ...]] = ("email",)


class OutboxEntry(msgspec.Struct, frozen=True, kw_only=True):
    """Something owed to a person, written in the business transaction that made it owed."""

    citizen_id: UUID
    outbox_id: UUID
    kind: str
    dedup_key: str
    payload: dict[str, Any]
    created_at: datetime
    enqueued_at: datetime | None


class Rendered(msgspec.Struct, frozen=True, kw_only=True):
    """A notice's text in one language, from one template version."""

    kind: str
    template_version: int
    language: Language
    subject: str
    body: str
    action_url: str | None
    action_label: str | None
    critical: bool


class Notification(msgspec.Struct, frozen=True, kw_only=True):
    """A notice in a person's inbox, with the text as it was rendered."""

    citizen_id: UUID
    notification_id: UUID
    kind: str
    template_version: int
    language: Language
    subject: str
    body: str
    action_url: str | None
    action_label: str | None
    critical: bool
    created_at: datetime
    read_at: datetime | None
    archived_at: datetime | None

    @property
    def unread(self) -> bool:
        """Not opened or marked read yet."""
        return self.read_at is None

    @property
    def archived(self) -> bool:
        """Put away by the person (kept, shown under "Archived")."""
        return self.archived_at is not None


class Delivery(msgspec.Struct, frozen=True, kw_only=True):
    """One notice on one channel, and how far its delivery got."""

    citizen_id: UUID
    notification_id: UUID
    channel: Channel
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    updated_at: datetime


class FailedDelivery(msgspec.Struct, frozen=True, kw_only=True):
    """A delivery given up on, for the operations view (no personal data: ids, kind, error)."""

    notification_id: UUID
    kind: str
    channel: Channel
    attempts: int
    last_error: str | None
    updated_at: datetime


class DeliveryJob(msgspec.Struct, frozen=True, kw_only=True):
    """What a delivery job needs: ids only."""

    citizen_id: UUID
    notification_id: UUID
    channel: Channel


class PersonStatus(msgspec.Struct, frozen=True, kw_only=True):
    """What the flexi rule must know about a person."""

    pensioner: bool = False
    early_retiree: bool = False


class QuietHours(msgspec.Struct, frozen=True, kw_only=True):
    """A daily period without push messages, in Brussels time; may run past midnight."""

    quiet_from: time
    quiet_to: time


class PreferenceOut(msgspec.Struct, frozen=True, kw_only=True):
    """A person's choice for one kind and channel (the default when never set)."""

    kind: str
    channel: Channel
    enabled: bool
    locked: bool


class PreferenceUpdate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Switch one optional channel of one kind on or off."""

    kind: Kind
    channel: OptionalChannel
    enabled: bool


class UnreadCount(msgspec.Struct, frozen=True, kw_only=True):
    """How many notices are waiting to be read."""

    unread: int
