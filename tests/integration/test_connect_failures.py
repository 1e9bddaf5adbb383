"""Each way a connection can fail gets its own reason and fix: refused, hung, DNS, login, vhost/database, protocol.

The hung cases use :class:`FrozenServer` (accepts TCP, never answers); the login and vhost/database cases use the
real RabbitMQ and PostgreSQL with names that do not exist, so nothing is created and nothing needs deleting.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from pika.adapters.utils.connection_workflow import AMQPConnectorStackTimeout

from course_lib import pg
from course_lib.errors import ServiceUnavailable
from course_lib.failures import FailureKind
from course_lib.kafka_probe import KafkaProbeFailed, ask_api_versions, identify_kafka
from course_lib.messaging.rabbitmq.connection import connect
from tests.integration.frozen_server import FrozenServer, closed_port

pytestmark = pytest.mark.timeout(60)  # every case must answer within its stated timeout, far below this

NO_SUCH_HOST = "no-such-host.invalid"  # the .invalid domain never resolves (RFC 2606)


def _rabbit_failure(url: str) -> ServiceUnavailable:
    with pytest.raises(ServiceUnavailable) as caught:
        connect(url, timeout=0.5).close()
    return caught.value


def _postgres_failure(url: str) -> ServiceUnavailable:
    with pytest.raises(ServiceUnavailable) as caught:
        pg.connect(url, connect_timeout=1).close()
    return caught.value


def _assert_each_kind_has_its_own_advice(
    cases: dict[str, tuple[str, str, str]], attempt: Callable[[str], ServiceUnavailable]
) -> None:
    """Each case is (url, part of the reason, part of the fix); no two kinds may share one catch-all fix."""
    fixes = set()
    for name, (url, reason, fix) in cases.items():
        error = attempt(url)
        assert reason in error.reason, (name, str(error))
        assert fix in error.fix, (name, str(error))
        assert "s3cret" not in str(error)
        fixes.add(error.fix)
    assert len(fixes) == len(cases)


def test_rabbitmq_that_accepts_but_never_answers_is_a_hung_broker_not_a_password_problem() -> None:
    with FrozenServer() as frozen:
        error = _rabbit_failure(f"amqp://guest:s3cret@127.0.0.1:{frozen.port}/%2F")
    assert isinstance(error.__cause__, AMQPConnectorStackTimeout)
    assert f"127.0.0.1:{frozen.port}" in error.url and "s3cret" not in str(error)
    assert "did not complete the AMQP handshake within 2.5 s" in error.reason  # timeout + 2, as connect() states
    assert "hung" in error.fix and "rabbitmq-server -detached" in error.fix and "password" not in error.fix


def test_rabbitmq_kinds_each_name_the_address_and_their_own_fix(rabbitmq_url: str, postgres_url: str) -> None:
    base = urlsplit(rabbitmq_url)
    port = closed_port()
    pg_port = urlsplit(postgres_url).port or 5432
    cases = {
        "refused": (f"amqp://guest:guest@127.0.0.1:{port}/%2F", f"nothing listens at 127.0.0.1:{port}",
                    "services start"),
        "dns": (f"amqp://guest:guest@{NO_SUCH_HOST}:5672/%2F", f"cannot resolve the host '{NO_SUCH_HOST}'",
                "correct the host"),
        "auth": (base._replace(netloc=f"guest:wrong-s3cret@{base.hostname}:{base.port}").geturl(),
                 "refused the login of user 'guest'", "check user and password"),
        "vhost": (base._replace(path="/t-no-such-vhost").geturl(), "virtual host 't-no-such-vhost' does not exist",
                  "rabbitmqctl add_vhost t-no-such-vhost"),
        "protocol": (f"amqp://guest:guest@127.0.0.1:{pg_port}/%2F", "answers, but not in AMQP 0-9-1",
                     "AMQP port"),
    }
    _assert_each_kind_has_its_own_advice(cases, _rabbit_failure)


def test_postgresql_that_accepts_but_never_answers_is_a_hung_server() -> None:
    with FrozenServer() as frozen:
        error = _postgres_failure(f"postgresql://postgres:s3cret@127.0.0.1:{frozen.port}/test")
    assert "s3cret" not in str(error) and f"127.0.0.1:{frozen.port}" in error.url
    assert "accepted the connection but did not answer within the 1 s timeout" in error.reason
    assert "hung" in error.fix and f"pg_isready -h 127.0.0.1 -p {frozen.port}" in error.fix


def test_postgresql_kinds_each_name_the_address_and_their_own_fix(postgres_url: str, rabbitmq_url: str) -> None:
    base = urlsplit(postgres_url)
    port = closed_port()
    amqp_port = urlsplit(rabbitmq_url).port or 5672
    cases = {
        "refused": (f"postgresql://postgres@127.0.0.1:{port}/test", f"nothing listens at 127.0.0.1:{port}",
                    "COURSE_POSTGRES_URL"),
        "dns": (f"postgresql://postgres@{NO_SUCH_HOST}:5432/test", f"cannot resolve the host '{NO_SUCH_HOST}'",
                "correct the host"),
        "auth": (base._replace(netloc=f"t_no_such_role:s3cret@{base.hostname}:{base.port}").geturl(),
                 "refused user 't_no_such_role'", "createuser"),
        "database": (base._replace(path="/t_no_such_db").geturl(), "the database 't_no_such_db' does not exist",
                     "createdb"),
        "protocol": (f"postgresql://postgres@127.0.0.1:{amqp_port}/test", "answers, but not as PostgreSQL",
                     "PostgreSQL's port"),
    }
    _assert_each_kind_has_its_own_advice(cases, _postgres_failure)


def test_kafka_probe_tells_hung_from_refused_from_not_kafka(rabbitmq_url: str) -> None:
    amqp_port = urlsplit(rabbitmq_url).port or 5672
    with FrozenServer() as frozen:
        with pytest.raises(KafkaProbeFailed) as hung:
            ask_api_versions("127.0.0.1", frozen.port, timeout_s=0.5)
        assert identify_kafka(f"127.0.0.1:{frozen.port}", timeout_s=0.5) is None  # the old answer still holds
    assert hung.value.kind is FailureKind.TIMEOUT and "did not answer a Kafka request within 0.5 s" in hung.value.reason
    port = closed_port()
    kinds = {
        (NO_SUCH_HOST, 9092): FailureKind.DNS,
        ("127.0.0.1", port): FailureKind.REFUSED,
        ("127.0.0.1", amqp_port): FailureKind.PROTOCOL,  # RabbitMQ answers a Kafka request with its AMQP header
    }
    for (host, at), kind in kinds.items():
        with pytest.raises(KafkaProbeFailed) as caught:
            ask_api_versions(host, at, timeout_s=1)
        assert caught.value.kind is kind, str(caught.value)
        assert f"{host}" in str(caught.value)


def test_kafka_probe_still_answers_for_the_real_broker(kafka_bootstrap: str) -> None:
    host, _, port = kafka_bootstrap.split(",")[0].rpartition(":")
    assert 18 in ask_api_versions(host, int(port))  # ApiVersions itself
