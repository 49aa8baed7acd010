"""A bad setting is one line built from cattrs' structured errors, also when the error is
nested (an item of a list), and never with the attribute's name twice."""

from __future__ import annotations

import attrs
import pytest
from attrs import field, frozen, validators

from naq_core import plugin_settings
from naq_core.config import load_config
from naq_core.errors import ConfigurationError


@frozen(kw_only=True)
class PortSettings:
    ports: list[int] = field(factory=list)
    limit: int = field(default=1, validator=validators.ge(1))


attrs.resolve_types(PortSettings)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"ports": [80, "x"]}, "ports.ports: expected a whole number, got 'x' (naq.toml)"),
        ({"limit": 0}, "ports.limit: must be >= 1: 0 (naq.toml)"),
    ],
)
def test_a_nested_or_validated_error_is_one_line(values: dict[str, object], message: str) -> None:
    sources = {f"ports.{key}": "naq.toml" for key in values}
    with pytest.raises(ConfigurationError) as raised:
        plugin_settings.structure("ports", PortSettings, values, sources)
    text = str(raised.value)
    assert "\n" not in text
    assert text.startswith(message) and text.count("ports") == (2 if "ports.ports" in message else 1), text


def test_a_core_setting_names_key_and_source_once() -> None:
    with pytest.raises(ConfigurationError) as raised:
        load_config(search=False, env={"NAQ_REPLICAS": "9"})
    assert str(raised.value) == "NAQ_REPLICAS: replicas: must be <= 5: 9"
