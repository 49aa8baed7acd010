"""The guard's rules, each against a real nats-server: auth, cross-site POSTs, read-only,
headers, bounded parameters, no secrets and no tracebacks in answers, sub-path mounting."""

from __future__ import annotations

import base64
import contextlib
from collections.abc import AsyncIterator

import pytest
from click.testing import CliRunner
from dashboard_support import BASE_URL, config_for, dashboard_client, post
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from naq_core.cli import cli
from naq_dashboard import create_app, host_of, lifespan
from naq_dashboard.cli import is_loopback
from naq_dashboard.security import CSP


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_no_auth_configured_means_open_on_loopback(nats_url: str) -> None:
    with dashboard_client(config_for(nats_url)) as client:
        assert client.get("/overview/").status_code == 200


def test_token_auth_refuses_without_and_accepts_bearer_or_basic(nats_url: str) -> None:
    config = config_for(nats_url, dashboard={"token": "s3cret-token"})
    with dashboard_client(config) as client:
        refused = client.get("/overview/")
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("Basic")
        assert client.get("/overview/", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert client.get("/overview/", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
        assert client.get("/overview/", headers=_basic("anyone", "s3cret-token")).status_code == 200
        # health checks stay open for load balancers
        assert client.get("/healthz").status_code == 200


def test_basic_auth_user_and_password(nats_url: str) -> None:
    config = config_for(nats_url, dashboard={"username": "ops", "password": "pa55word"})
    with dashboard_client(config) as client:
        assert client.get("/overview/", headers=_basic("ops", "wrong")).status_code == 401
        assert client.get("/overview/", headers=_basic("other", "pa55word")).status_code == 401
        assert client.get("/overview/", headers=_basic("ops", "pa55word")).status_code == 200
        assert client.get("/overview/", headers={"Authorization": "Basic !!notbase64"}).status_code == 401


def test_the_token_comes_from_the_environment(nats_url: str) -> None:
    from naq_core.config import load_config

    env = {"NAQ_DASHBOARD_TOKEN": "from-env"}
    config = load_config(env=env, search=False, overrides={"nats_url": nats_url})
    with dashboard_client(config) as client:
        assert client.get("/overview/").status_code == 401
        assert client.get("/overview/", headers={"Authorization": "Bearer from-env"}).status_code == 200


def _post_route(client: TestClient) -> str:
    """Any POST: the guard answers before routing, so a 404/405 behind it means "let through"."""
    return "/overview/"


@pytest.mark.parametrize(
    ("headers", "allowed"),
    [
        ({"Sec-Fetch-Site": "cross-site"}, False),
        ({"Sec-Fetch-Site": "same-site"}, False),
        ({"Origin": "https://evil.example"}, False),
        ({"Origin": "null"}, False),
        ({"Sec-Fetch-Site": "same-origin", "Origin": "https://evil.example"}, False),
        ({"Sec-Fetch-Site": "same-origin"}, True),
        ({"Origin": BASE_URL}, True),
    ],
)
def test_cross_site_posts_are_refused(nats_url: str, headers: dict[str, str], allowed: bool) -> None:
    with dashboard_client(config_for(nats_url)) as client:
        response = client.post(_post_route(client), data={"x": "1"}, headers=headers)
        if allowed:
            assert response.status_code == 405  # past the guard: the page takes no POST
        else:
            assert response.status_code == 403
            assert "refused" in response.text


def test_a_client_sending_neither_header_needs_the_token(nats_url: str) -> None:
    with dashboard_client(config_for(nats_url)) as client:
        token = host_of(client.app).csrf_token  # type: ignore[arg-type]
        assert client.post("/overview/", data={"x": "1"}).status_code == 403
        assert client.post("/overview/", data={"_csrf": "wrong"}).status_code == 403
        assert client.post("/overview/", data={"_csrf": token}).status_code == 405
        assert client.post("/overview/", headers={"X-NAQ-CSRF": token}).status_code == 405


def test_bearer_token_clients_need_no_csrf_token(nats_url: str) -> None:
    config = config_for(nats_url, dashboard={"token": "t0ken"})
    with dashboard_client(config) as client:
        response = client.post("/overview/", headers={"Authorization": "Bearer t0ken"})
        assert response.status_code == 405


def test_read_only_refuses_every_post_even_same_origin(nats_url: str) -> None:
    with dashboard_client(config_for(nats_url), read_only=True) as client:
        response = post(client, "/overview/")
        assert response.status_code == 403
        assert "read-only" in response.text
        assert "read-only" in client.get("/overview/").text  # the badge


def test_read_only_from_config(nats_url: str) -> None:
    with dashboard_client(config_for(nats_url, dashboard={"read_only": True})) as client:
        assert post(client, "/overview/").status_code == 403


def test_security_headers_and_no_cors(nats_url: str) -> None:
    with dashboard_client(config_for(nats_url)) as client:
        for path in ("/overview/", "/static/naq.js", "/healthz", "/readyz"):
            response = client.get(path, headers={"Origin": "https://evil.example"})
            assert response.headers["content-security-policy"] == CSP
            assert "'unsafe-inline'" not in CSP
            assert response.headers["x-frame-options"] == "DENY"
            assert response.headers["x-content-type-options"] == "nosniff"
            assert not [h for h in response.headers if h.lower().startswith("access-control-")]


def test_pages_have_no_inline_script_or_style(nats_url: str) -> None:
    with dashboard_client(config_for(nats_url)) as client:
        html = client.get("/overview/").text
        assert "<script>" not in html and "<script >" not in html
        assert " style=" not in html and " onclick=" not in html


def test_credentials_never_appear_in_pages(nats_url: str) -> None:
    secret_url = nats_url.replace("nats://", "nats://naquser:hunter2-secret@")
    config = config_for(secret_url, dashboard={"token": "tok-123"})
    with dashboard_client(config, raise_server_exceptions=False) as client:
        auth = {"Authorization": "Bearer tok-123"}
        for path in ("/overview/", "/readyz", "/nope"):
            text = client.get(path, headers=auth).text
            assert "hunter2-secret" not in text
            assert "tok-123" not in text


def test_errors_render_a_plain_page_without_traceback(nats_url: str) -> None:
    async def boom(_: object) -> PlainTextResponse:
        raise RuntimeError("internal detail that must not leak")

    app = create_app(config_for(nats_url))
    app.router.routes.insert(0, Route("/boom", boom))
    with TestClient(app, base_url=BASE_URL, raise_server_exceptions=False) as client:
        response = client.get("/boom")
        assert response.status_code == 500
        assert "internal detail" not in response.text
        assert "Traceback" not in response.text
        missing = client.get("/no-such-page")
        assert missing.status_code == 404
        assert "Traceback" not in missing.text


def test_mounted_under_a_sub_path_every_url_keeps_the_prefix(nats_url: str) -> None:
    dashboard = create_app(config_for(nats_url))

    @contextlib.asynccontextmanager
    async def host_lifespan(_: Starlette) -> AsyncIterator[None]:
        async with lifespan(dashboard):
            yield

    async def index(_: object) -> PlainTextResponse:
        return PlainTextResponse("host app")

    host_app = Starlette(routes=[Route("/", index), Mount("/ops/naq", app=dashboard)], lifespan=host_lifespan)
    with TestClient(host_app, base_url=BASE_URL) as client:
        assert client.get("/").text == "host app"
        page = client.get("/ops/naq/")
        assert page.status_code == 200
        assert page.url.path == "/ops/naq/overview/"
        html = page.text
        assert 'href="http://127.0.0.1/ops/naq/static/naq.css"' in html
        assert 'src="http://127.0.0.1/ops/naq/static/naq.js"' in html
        assert 'data-events="http://127.0.0.1/ops/naq/events"' in html
        assert client.get("/ops/naq/static/naq.css").status_code == 200
        assert client.get("/ops/naq/healthz").text == "ok"
        # the guard applies under the prefix too
        assert client.post("/ops/naq/overview/", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert host_of(dashboard).live.listeners == 0


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("::1", True), ("localhost", True), ("0.0.0.0", False), ("10.1.2.3", False)],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_naq_dashboard_refuses_a_public_address_without_auth(nats_url: str) -> None:
    result = CliRunner().invoke(cli, ["dashboard", "--host", "0.0.0.0"], env={"NAQ_NATS_URL": nats_url})
    assert result.exit_code != 0
    assert "refusing to serve the dashboard on 0.0.0.0 without authentication" in result.output
    assert "NAQ_DASHBOARD_TOKEN" in result.output
    assert "Traceback" not in result.output
