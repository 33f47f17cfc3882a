"""The SMTP connection pool against a real SMTP exchange (aiosmtpd in process): connections reused, bounded,
replaced when the server drops them, and the failure sorting of the e-mail channel kept: 4xx and broken
connections are temporary, 5xx permanent; a message is never handed over twice because of the pool."""

from __future__ import annotations

import asyncio
import socket

import pytest

from notifications.channels.email import OutgoingEmail, waiting_message
from notifications.channels.failures import PermanentFailure, TemporaryFailure
from notifications.channels.smtp_pool import SmtpPool, send_once
from tests.smtp_server import SmtpServer


def _email(to: str) -> OutgoingEmail:
    return waiting_message(
        to=to,
        mail_from="Vitrine <no-reply@vitrine.example>",
        language="fr",
        notification_url="https://vitrine.test/inbox/00000000-0000-4000-8000-000000000001",
        preferences_url="https://vitrine.test/inbox/preferences",
    )


def _open_sessions(smtp: SmtpServer) -> int:
    return sum(1 for session in smtp.sessions if session.transport is not None and not session.transport.is_closing())


async def test_one_connection_carries_message_after_message(smtp: SmtpServer) -> None:
    pool = SmtpPool(smtp.url)
    try:
        for index in range(5):
            await pool.send(_email(f"person{index}@example.be"))
    finally:
        await pool.close()
    assert [str(message["To"]) for message in smtp.messages] == [f"person{index}@example.be" for index in range(5)]
    assert smtp.envelopes[0] == ("no-reply@vitrine.example", ["person0@example.be"])
    assert pool.connections_opened == 1
    assert len(smtp.sessions) == 1


async def test_concurrent_messages_share_a_bounded_number_of_connections(smtp: SmtpServer) -> None:
    pool = SmtpPool(smtp.url, size=3)
    try:
        await asyncio.gather(*(pool.send(_email(f"p{index}@example.be")) for index in range(30)))
    finally:
        await pool.close()
    assert sorted(str(message["To"]) for message in smtp.messages) == sorted(
        f"p{index}@example.be" for index in range(30)
    )
    assert pool.connections_opened <= 3
    await asyncio.sleep(0.05)
    assert _open_sessions(smtp) == 0, "closing the pool says QUIT on every connection"


async def test_a_connection_the_server_closed_is_replaced(smtp: SmtpServer) -> None:
    pool = SmtpPool(smtp.url)
    try:
        await pool.send(_email("first@example.be"))
        smtp.drop_connections()
        await asyncio.sleep(0.05)  # the client sees the connection end
        await pool.send(_email("second@example.be"))
    finally:
        await pool.close()
    assert [str(message["To"]) for message in smtp.messages] == ["first@example.be", "second@example.be"]
    assert pool.connections_opened == 2


async def test_a_connection_dropped_before_mail_is_answered_is_replaced_and_the_message_sent_once(
    smtp: SmtpServer,
) -> None:
    pool = SmtpPool(smtp.url)
    try:
        await pool.send(_email("first@example.be"))
        # The server drops the idle connection just as the next message starts: nothing of it reached the server.
        smtp.drop_at_next("MAIL")
        await pool.send(_email("second@example.be"))
    finally:
        await pool.close()
    assert [str(message["To"]) for message in smtp.messages] == ["first@example.be", "second@example.be"]
    assert smtp.mail_commands == 3
    assert pool.connections_opened == 2


async def test_a_connection_dropped_after_data_is_a_temporary_failure_never_a_second_send(smtp: SmtpServer) -> None:
    pool = SmtpPool(smtp.url)
    try:
        await pool.send(_email("first@example.be"))
        smtp.drop_at_next("DATA")
        with pytest.raises(TemporaryFailure):
            await pool.send(_email("unsure@example.be"))
        assert smtp.mail_commands == 2, "not tried again: the server may have the message"
        await pool.send(_email("third@example.be"))
    finally:
        await pool.close()
    assert [str(message["To"]) for message in smtp.messages] == [
        "first@example.be",
        "unsure@example.be",
        "third@example.be",
    ]
    assert pool.connections_opened == 2


async def test_a_4xx_answer_is_temporary_and_the_connection_carries_the_next_message(smtp: SmtpServer) -> None:
    pool = SmtpPool(smtp.url)
    try:
        smtp.answer_next("451 4.3.0 Mailbox busy for <busy@example.be>, try again later")
        with pytest.raises(TemporaryFailure) as failure:
            await pool.send(_email("busy@example.be"))
        assert failure.value.reason == "SMTP 451: 4.3.0 Mailbox busy for <<address>>, try again later"
        await pool.send(_email("next@example.be"))
    finally:
        await pool.close()
    assert [str(message["To"]) for message in smtp.messages] == ["next@example.be"]
    assert pool.connections_opened == 1


async def test_a_5xx_answer_is_permanent(smtp: SmtpServer) -> None:
    pool = SmtpPool(smtp.url)
    try:
        smtp.answer_next("554 5.7.1 Message refused for <refused@example.be>")
        with pytest.raises(PermanentFailure) as failure:
            await pool.send(_email("refused@example.be"))
        assert failure.value.reason == "SMTP 554: 5.7.1 Message refused for <<address>>"
        await pool.send(_email("next@example.be"))
    finally:
        await pool.close()
    assert [str(message["To"]) for message in smtp.messages] == ["next@example.be"]
    assert pool.connections_opened == 1


async def test_a_421_answer_is_temporary_and_that_connection_is_not_lent_again(smtp: SmtpServer) -> None:
    pool = SmtpPool(smtp.url)
    try:
        smtp.answer_next("421 4.3.2 Service shutting down")
        with pytest.raises(TemporaryFailure):
            await pool.send(_email("later@example.be"))
        await pool.send(_email("next@example.be"))
    finally:
        await pool.close()
    assert [str(message["To"]) for message in smtp.messages] == ["next@example.be"]
    assert pool.connections_opened == 2


async def test_a_refused_connection_is_temporary() -> None:
    with socket.socket() as probe:  # a loopback port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(TemporaryFailure) as failure:
        await send_once(_email("nobody@example.be"), f"smtp://127.0.0.1:{port}", timeout_seconds=2)
    assert "nobody@example.be" not in failure.value.reason


async def test_a_closed_pool_sends_nothing(smtp: SmtpServer) -> None:
    pool = SmtpPool(smtp.url)
    await pool.send(_email("before@example.be"))
    await pool.close()
    with pytest.raises(TemporaryFailure):
        await pool.send(_email("after@example.be"))
    assert [str(message["To"]) for message in smtp.messages] == ["before@example.be"]
