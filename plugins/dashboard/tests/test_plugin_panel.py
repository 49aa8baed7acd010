"""A third-party panel (tests/example_panel_pkg) on the core hook alone: navigation, page,
action, JSON route, and two plugins with the same panel name refused."""

from __future__ import annotations

import example_panel_pkg
import pytest
from dashboard_support import config_for, dashboard_client, post

from naq_core.errors import PluginError
from naq_core.hookspecs import hookimpl
from naq_core.panels import Panel
from naq_core.plugins import get_hooks


@pytest.fixture
def with_example_panel() -> None:
    get_hooks().pm.register(example_panel_pkg, name="example-panel")


@pytest.mark.usefixtures("with_example_panel")
def test_a_plugin_panel_is_in_the_navigation_and_serves_its_page(nats_url: str) -> None:
    with dashboard_client(config_for(nats_url)) as client:
        overview = client.get("/overview/").text
        assert 'href="http://127.0.0.1/hello/">Hello</a>' in overview
        page = client.get("/hello/")
        assert page.status_code == 200
        assert "Hello from a plugin" in page.text
        assert "Clicked 0 times." in page.text
        done = post(client, "/hello/click")
        assert done.status_code == 200 and "Clicked 1 times." in done.text
        assert isinstance(client.get("/api/hello/").json()["queues"], list)


@pytest.mark.usefixtures("with_example_panel")
def test_a_plugin_panel_action_obeys_read_only(nats_url: str) -> None:
    with dashboard_client(config_for(nats_url), read_only=True) as client:
        assert ">Click</button>" not in client.get("/hello/").text
        assert post(client, "/hello/click").status_code == 403


def test_two_panels_with_one_name_are_refused(nats_url: str) -> None:
    class Twin:
        @hookimpl
        def naq_register_dashboard_panels(self, register, config):  # type: ignore[no-untyped-def]
            register(Panel(name="overview", title="Twin"))

    get_hooks().pm.register(Twin(), name="twin")
    with pytest.raises(PluginError, match="overview"), dashboard_client(config_for(nats_url)):
        pass
