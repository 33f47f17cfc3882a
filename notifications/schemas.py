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
Kind = Literal[
    "flexi_ceiling",
    "flexi_pension_limit",
    "mandate_expiring",
    "access_alert",
    "contest_answered",
    "error_report_answered",
    "desk_session_opened",
    "desk_mandate_code",
]
KINDS: Final[tuple[Kind, ...]] = get_args(Kind)
# Channels switchable per kind on the preferences page.
SWITCHABLE_CHANNELS: Final[tuple[OptionalChannel, ...]] = ("email", "push")


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


class EmailClaim(msgspec.Struct, frozen=True, kw_only=True):
    """An e-mail delivery claimed for an attempt, with what its message needs (None when the row is missing)."""

    attempts: int
    language: Language | None
    email: str | None


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


class PushKeys(msgspec.Struct, frozen=True, kw_only=True):
    """The browser's keys of a push subscription, base64url: its P-256 public key and its auth secret."""

    p256dh: str
    auth: str


class PushSubscriptionIn(msgspec.Struct, frozen=True, kw_only=True, rename={"expiration_time": "expirationTime"}):
    """A push subscription as the browser gives it (`PushSubscription.toJSON()`)."""

    endpoint: str
    keys: PushKeys
    expiration_time: int | None = None


class PushSubscription(msgspec.Struct, frozen=True, kw_only=True):
    """A device that receives the person's push messages, as stored (the keys are needed to encrypt for it)."""

    citizen_id: UUID
    subscription_id: UUID
    endpoint: str
    p256dh: str
    auth: str
    device_label: str
    created_at: datetime
    last_success_at: datetime | None
    disabled_at: datetime | None
    disabled_reason: str | None


class PushDevice(msgspec.Struct, frozen=True, kw_only=True):
    """A device as shown to its owner: no endpoint or keys, only what helps recognise it."""

    subscription_id: UUID
    device_label: str
    created_at: datetime
    last_success_at: datetime | None
    active: bool


class PushPublicKey(msgspec.Struct, frozen=True, kw_only=True):
    """What the subscribe script needs: the VAPID public key (`applicationServerKey`), base64url."""

    public_key: str
