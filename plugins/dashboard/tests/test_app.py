"""The app shell against a real nats-server: home, health, layout, assets, errors, two apps."""

from __future__ import annotations

from dashboard_support import config_for, dashboard_client

from naq_dashboard import host_of


def test_home_redirects_to_the_first_panel_and_it_renders(nats_url: str) -> None:
    with dashboard_client(config_for(nats_url)) as client:
        response = client.get("/")
        assert response.status_code == 200
        assert response.url.path == "/overview/"
        assert "<h1>Overview</h1>" in response.text
        assert 'href="http://127.0.0.1/static/naq.css"' in response.text


def test_static_assets_are_served_from_the_package(nats_url: str) -> None:
    with dashboard_client(config_for(nats_url)) as client:
        css = client.get("/static/naq.css")
        js = client.get("/static/naq.js")
        assert css.status_code == 200 and "naq dashboard" in css.text
        assert js.status_code == 200 and "EventSource" in js.text


def test_healthz_and_readyz(nats_url: str) -> None:
    with dashboard_client(config_for(nats_url)) as client:
        assert client.get("/healthz").text == "ok"
        ready = client.get("/readyz")
        assert ready.status_code in (200, 503)
        assert ready.json()["checks"]["nats"] == "ok"


def test_readyz_says_503_when_nats_is_unreachable() -> None:
    from naq_core.server import free_port

    config = config_for(f"nats://127.0.0.1:{free_port()}", connect_timeout=1)
    with dashboard_client(config) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["ready"] is False
        page = client.get("/overview/")
        assert page.status_code == 503
        assert "NATS unreachable" in page.text


def test_two_apps_live_side_by_side(nats_url: str) -> None:
    with (
        dashboard_client(config_for(nats_url)) as one,
        dashboard_client(config_for(nats_url, dashboard={"title": "second"})) as two,
    ):
        assert one.app is not two.app
        assert "· naq</title>" in one.get("/overview/").text
        assert "· second</title>" in two.get("/overview/").text


def test_close_callbacks_run_at_shutdown_even_after_one_fails(nats_url: str) -> None:
    ran: list[str] = []

    async def failing() -> None:
        ran.append("failing")
        raise RuntimeError("a panel's stop failed")

    async def second() -> None:
        ran.append("second")

    with dashboard_client(config_for(nats_url)) as client:
        host = host_of(client.app)  # type: ignore[arg-type]
        host.on_close(failing)
        host.on_close(second)
        assert client.get("/healthz").status_code == 200
        assert ran == []
    assert ran == ["failing", "second"]
