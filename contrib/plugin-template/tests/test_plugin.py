"""The sink keeps naq's dead-letter contract; the settings table and a real worker use it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path

import naq_json_serializer
import pytest
from naq_core import ConfigurationError, DeadLetter, DeadLetterReason, Queue, load_config
from naq_core.testing import DeadLetterSinkContract, only_plugins
from naq_core.testing.worker import running_worker, wait_until

import naq_plugin_example
from naq_plugin_example.settings import DEFAULT_DIRECTORY, settings_of
from naq_plugin_example.sink import DirectorySink


class TestDirectorySink(DeadLetterSinkContract):
    """naq's contract suite: every kind of letter is stored, and comes back exactly."""

    @pytest.fixture
    def sink(self, tmp_path: Path) -> DirectorySink:
        return DirectorySink(tmp_path / "letters")

    def read_back(self, sink: DirectorySink) -> list[DeadLetter]:
        return sink.read_all()


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """This plugin and a serializer, nothing else; no config file or variable of the caller."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NAQ_CONFIG", raising=False)
    monkeypatch.delenv("NAQ_PLUGIN_EXAMPLE_DIRECTORY", raising=False)
    with only_plugins(naq_json_serializer, naq_plugin_example):
        yield


def test_the_entry_point_names_this_module() -> None:
    [entry_point] = [ep for ep in entry_points(group="naq") if ep.name == "plugin-example"]
    assert entry_point.value == "naq_plugin_example"


@pytest.mark.usefixtures("plugins")
def test_settings_come_from_the_table_then_the_environment(tmp_path: Path) -> None:
    assert settings_of(load_config(search=False)).directory == DEFAULT_DIRECTORY
    config_file = tmp_path / "naq.toml"
    config_file.write_text('[plugin_example]\ndirectory = "from-file"\n')
    assert settings_of(load_config(config_file)).directory == "from-file"
    env = {"NAQ_PLUGIN_EXAMPLE_DIRECTORY": "from-env"}
    assert settings_of(load_config(config_file, env=env)).directory == "from-env"


@pytest.mark.usefixtures("plugins")
def test_a_bad_value_is_one_error_naming_the_key(tmp_path: Path) -> None:
    config_file = tmp_path / "naq.toml"
    config_file.write_text('[plugin_example]\ndirectory = ""\n')
    with pytest.raises(ConfigurationError, match=r"plugin_example\.directory"):
        settings_of(load_config(config_file))


@pytest.mark.usefixtures("plugins")
async def test_a_worker_stores_its_dead_letters_in_the_directory(
    nats_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "letters"
    monkeypatch.setenv("NAQ_PLUGIN_EXAMPLE_DIRECTORY", str(directory))
    queue_name = f"example-{uuid.uuid4().hex[:8]}"
    sink = DirectorySink(directory)  # reads what the worker's own sink writes
    async with running_worker(nats_url, queue_name, tasks=[]), Queue(queue_name, nats_url) as queue:
        job = await queue.enqueue("nobody:knows")  # no worker has this task: a dead letter
        await wait_until(lambda: len(sink.read_all()) >= 1, timeout=15, interval=0.05)
    [letter] = sink.read_all()
    assert letter.reason is DeadLetterReason.UNKNOWN_TASK
    assert (letter.job_id, letter.queue_name) == (job.job_id, queue_name)
