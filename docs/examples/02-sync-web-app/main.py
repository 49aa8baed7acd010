"""A tiny WSGI app (standard library only) whose views enqueue jobs with the sync NaqClient.

``POST /count`` enqueues ``count_words`` with the request body and answers the job id at
once; ``GET /jobs/<id>`` answers the job's status and, once it is done, its result. Any
sync framework (Flask, Django, ...) uses ``NaqClient`` the same way: one client for the
whole process, shared by every thread that serves requests.

``python main.py`` serves on a free port, calls itself like a browser would, prints what it
got and exits. ``python main.py --serve`` keeps serving on http://127.0.0.1:8000 until
Ctrl-C (try ``curl -d "to be or not to be" http://127.0.0.1:8000/count``).
"""

from __future__ import annotations

import json
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from tasks import count_words

from naq_core import JobFailedError, JobNotFoundError, NaqClient

WAIT = 30.0  # seconds: every wait is bounded, so this script always ends

# One client per process, connected on first use, closed when the app stops. It runs its own event
# loop in a background thread, so plain sync code (and any number of threads) can call it.
client = NaqClient()

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
    if method == "POST" and path == "/count":
        size = int(environ.get("CONTENT_LENGTH") or 0)
        text = environ["wsgi.input"].read(size).decode()
        job = client.enqueue(count_words, text, queue_name="web")  # returns once stored
        return _json(start_response, "202 Accepted", {"job_id": job.job_id})
    if method == "GET" and path.startswith("/jobs/"):
        job_id = path.removeprefix("/jobs/")
        try:
            record = client.job_record(job_id)  # never waits for the job
        except JobNotFoundError:
            return _json(start_response, "404 Not Found", {"error": f"no job {job_id}"})
        body: dict[str, Any] = {"job_id": job_id, "status": record.status.value}
        if record.finished:
            body["result"] = record.result
        return _json(start_response, "200 OK", body)
    if method == "GET" and path.startswith("/wait/"):
        try:  # a view may also block, always with a bound
            result = client.fetch_job_result(path.removeprefix("/wait/"), timeout=10)
        except TimeoutError:
            return _json(start_response, "200 OK", {"status": "not finished yet"})
        except JobNotFoundError as exc:
            return _json(start_response, "404 Not Found", {"error": str(exc)})
        except JobFailedError as exc:
            return _json(start_response, "200 OK", {"status": exc.status, "error": exc.error})
        return _json(start_response, "200 OK", {"status": "completed", "result": result})
    return _json(start_response, "404 Not Found", {"error": f"no route {method} {path}"})


def _json(start_response: StartResponse, status: str, body: dict[str, Any]) -> list[bytes]:
    data = json.dumps(body, sort_keys=True).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass


def call(base: str, path: str, body: bytes | None = None) -> dict[str, Any]:
    """What a browser or another service would do: one HTTP request, JSON back."""
    url = base + path  # http://127.0.0.1:<port>/...: our own server
    request = urllib.request.Request(url, data=body, method="POST" if body else "GET")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=WAIT) as response:  # noqa: S310
            answer: dict[str, Any] = json.load(response)
    except urllib.error.HTTPError as error:  # 404 and friends carry a JSON body too
        answer = {"http_status": error.code, **json.load(error)}
    return answer


def demo() -> None:
    with make_server("127.0.0.1", 0, app, handler_class=QuietHandler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        try:
            job_id = call(base, "/count", b"to be or not to be")["job_id"]
            print(f"POST /count -> job {job_id}")
            deadline = time.monotonic() + WAIT
            answer = call(base, f"/jobs/{job_id}")
            while "result" not in answer and time.monotonic() < deadline:  # until finished
                time.sleep(0.1)  # a page polling for the job
                answer = call(base, f"/jobs/{job_id}")
            print(f"GET /jobs/<id> -> status {answer['status']}, result {json.dumps(answer.get('result'))}")
            job_id = call(base, "/count", b"naq naq naq")["job_id"]
            print(f"GET /wait/<id> -> {json.dumps(call(base, f'/wait/{job_id}'), sort_keys=True)}")
            unknown = call(base, "/jobs/no-such-job")
            print(f"GET /jobs/no-such-job -> {unknown['http_status']} {unknown['error']}")
        finally:
            server.shutdown()
            client.close()


if __name__ == "__main__":
    if "--serve" in sys.argv:
        with make_server("127.0.0.1", 8000, app) as httpd:
            print("serving on http://127.0.0.1:8000 (Ctrl-C to stop)")
            try:
                httpd.serve_forever()
            except KeyboardInterrupt:
                pass
            finally:
                client.close()
    else:
        demo()
