"""The delivery count read from a JetStream ack subject (the worker's hot path), checked
against nats-py's own full parse for both subject layouts."""

from __future__ import annotations

import pytest
from nats.aio.msg import Msg
from nats.errors import NotJSMessageError

from naq_core._intake import delivered

V1 = "$JS.ACK.naq_jobs.naq_worker_q.7.123.45.1700000000000000000.0"
V2 = "$JS.ACK.hub.AHASH.naq_jobs.naq_worker_q.3.123.45.1700000000000000000.9.tok"


@pytest.mark.parametrize(("reply", "count"), [(V1, 7), (V2, 3), (V2.rpartition(".")[0], 3)])
def test_delivered_matches_nats_py(reply: str, count: int) -> None:
    msg = Msg(None, subject="naq.queue.q.j", reply=reply)  # type: ignore[arg-type]
    assert delivered(msg) == count == msg.metadata.num_delivered


def test_a_message_that_is_not_a_jetstream_one_is_refused_as_before() -> None:
    with pytest.raises(NotJSMessageError):
        delivered(Msg(None, subject="x", reply="_INBOX.abc"))  # type: ignore[arg-type]
