"""The local Kafka node (devstack/servers/kafka.py) against a real broker, with confluent-kafka."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaException, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from devstack.base import HOST, REPO_ROOT, PortInUse, free_port, port_in_use
from devstack.servers.kafka import CONTROLLER_PORT_SETTING, PORT_SETTING, Kafka, ensure_topics

CACHE_DIR = REPO_ROOT / ".cache"


@pytest.fixture(scope="module")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kafka]:
    node = Kafka(
        state_dir=tmp_path_factory.mktemp("kafka-state"),
        cache_dir=CACHE_DIR,
        port=free_port(),
        controller_port=free_port(),
    )
    node.start()
    try:
        yield node
    finally:
        node.stop()
        node.account.purge()


def _unique_topic(prefix: str) -> str:
    return f"test.{prefix}.{uuid.uuid4().hex[:8]}"


def _produce(bootstrap: str, topic: str, key: bytes, value: bytes) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all"})
    delivered: list[Message] = []
    errors: list[object] = []

    def on_delivery(err: object, msg: Message) -> None:
        if err is not None:
            errors.append(err)
        else:
            delivered.append(msg)

    producer.produce(topic, key=key, value=value, on_delivery=on_delivery)
    assert producer.flush(30) == 0
    assert errors == []
    assert len(delivered) == 1


def _consumer(bootstrap: str, group: str) -> Consumer:
    return Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )


def _poll_one(consumer: Consumer, timeout: float = 30) -> Message:
    """The next message, skipping empty polls; fails the test after `timeout` seconds."""
    remaining = timeout
    while remaining > 0:
        msg = consumer.poll(1.0)
        remaining -= 1.0
        if msg is None:
            continue
        if msg.error():
            raise KafkaException(msg.error())
        return msg
    pytest.fail(f"no message within {timeout}s")


def _committed_offsets(bootstrap: str, group: str, topic: str, partitions: int) -> list[int]:
    consumer = _consumer(bootstrap, group)
    try:
        committed = consumer.committed(
            [TopicPartition(topic, p) for p in range(partitions)], timeout=10
        )
    finally:
        consumer.close()
    return [tp.offset for tp in sorted(committed, key=lambda tp: tp.partition)]


def _cluster_id(bootstrap: str) -> str:
    # Keep the client referenced while waiting: a destroyed client cancels its futures.
    admin = AdminClient({"bootstrap.servers": bootstrap})
    return str(admin.describe_cluster().result(10).cluster_id)


def test_committed_message_is_not_redelivered_to_the_same_consumer_group(kafka: Kafka) -> None:
    bootstrap = kafka.bootstrap_servers
    topic = _unique_topic("commit")
    group = f"group-{uuid.uuid4().hex[:8]}"
    ensure_topics(bootstrap, {topic: 1})
    _produce(bootstrap, topic, b"order-1", b"first")

    first = _consumer(bootstrap, group)
    first.subscribe([topic])
    received = _poll_one(first)
    first.commit(message=received, asynchronous=False)
    first.close()
    _produce(bootstrap, topic, b"order-1", b"second")
    second = _consumer(bootstrap, group)
    second.subscribe([topic])
    after_restart_of_group = _poll_one(second)
    second.close()

    assert (received.key(), received.value(), received.offset()) == (b"order-1", b"first", 0)
    assert (after_restart_of_group.value(), after_restart_of_group.offset()) == (b"second", 1)
    assert _committed_offsets(bootstrap, group, topic, 1) == [1]


def test_ensure_topics_creates_only_missing_topics_with_their_partition_counts(
    kafka: Kafka,
) -> None:
    bootstrap = kafka.bootstrap_servers
    topic = _unique_topic("ensure")

    created = ensure_topics(bootstrap, {topic: 3})
    created_again = ensure_topics(bootstrap, {topic: 3})

    metadata = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10)
    assert created == [topic]
    assert created_again == []
    assert len(metadata.topics[topic].partitions) == 3


def test_topic_messages_and_committed_offsets_survive_a_broker_restart(kafka: Kafka) -> None:
    bootstrap = kafka.bootstrap_servers
    topic = _unique_topic("restart")
    group = f"group-{uuid.uuid4().hex[:8]}"
    ensure_topics(bootstrap, {topic: 1})
    _produce(bootstrap, topic, b"order-2", b"kept")
    consumer = _consumer(bootstrap, group)
    consumer.subscribe([topic])
    consumer.commit(message=_poll_one(consumer), asynchronous=False)
    consumer.close()
    cluster_before = _cluster_id(bootstrap)

    kafka.stop()
    stopped = not kafka.process().alive() and not port_in_use(kafka.port)
    kafka.start()

    cluster_after = _cluster_id(bootstrap)
    topics_after = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10).topics
    reader = _consumer(bootstrap, f"reader-{uuid.uuid4().hex[:8]}")
    reader.subscribe([topic])
    replayed = _poll_one(reader)
    reader.close()
    assert stopped
    assert cluster_after == cluster_before
    assert len(topics_after[topic].partitions) == 1
    assert (replayed.key(), replayed.value(), replayed.offset()) == (b"order-2", b"kept", 0)
    assert _committed_offsets(bootstrap, group, topic, 1) == [1]


@pytest.mark.parametrize(
    ("taken", "setting"),
    [("port", PORT_SETTING), ("controller_port", CONTROLLER_PORT_SETTING)],
)
def test_start_on_a_taken_port_raises_port_in_use_and_starts_nothing(
    tmp_path: Path, taken: str, setting: str
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.bind((HOST, 0))
        squatter.listen()
        busy = squatter.getsockname()[1]
        ports = {"port": free_port(), "controller_port": free_port(), taken: busy}
        node = Kafka(state_dir=tmp_path, cache_dir=CACHE_DIR, **ports)

        with pytest.raises(PortInUse) as caught:
            node.start()

    other = ports["controller_port" if taken == "port" else "port"]
    assert (caught.value.part, caught.value.port, caught.value.setting) == ("kafka", busy, setting)
    assert f"port {busy}" in str(caught.value)
    assert setting in str(caught.value)
    assert not node.process().alive()
    assert not node.process().pidfile.exists()
    assert not node.root.exists()
    assert not port_in_use(other)
