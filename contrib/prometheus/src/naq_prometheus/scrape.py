"""Reading a metrics endpoint back: what the dashboard panel shows.

The dashboard runs in a process of its own, whose registry holds none of the workers'
counts: the panel asks the endpoint, as Prometheus would.
"""

from __future__ import annotations

import urllib.request

from attrs import frozen
from prometheus_client.parser import text_string_to_metric_families

from naq_prometheus import endpoint
from naq_prometheus.settings import Settings

__all__ = ["Sample", "endpoint_url", "parse", "read"]

_ANY_ADDRESS = frozenset({"", "0.0.0.0", "::"})
#: Bytes read from the endpoint at most.
MAX_BYTES = 4 * 1024 * 1024


@frozen(kw_only=True)
class Sample:
    """One series of a naq metric: ``naq_jobs_succeeded_total{queue="q",function="f"} 3``."""

    name: str
    labels: tuple[tuple[str, str], ...]
    value: float


def endpoint_url(settings: Settings) -> str:
    """The endpoint of this process if it has one open, else the configured one."""
    host, port = endpoint.address() or (settings.host, settings.port)
    host = "127.0.0.1" if host in _ANY_ADDRESS else host
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/metrics"


def read(url: str, timeout: float = 5.0) -> str:
    """The text an endpoint serves (blocking: call it in a thread)."""
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an http URL: {url}")
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (scheme checked)
        data: bytes = response.read(MAX_BYTES)
    return data.decode("utf-8")


def parse(text: str, prefix: str = "naq_") -> list[Sample]:
    """The samples of the metrics whose names start with ``prefix``, by name then labels.

    Histogram buckets are left out (their ``_count`` and ``_sum`` stay), as is each
    counter's ``_created`` time.
    """
    samples = [
        Sample(name=s.name, labels=tuple(sorted(s.labels.items())), value=s.value)
        for family in text_string_to_metric_families(text)
        if family.name.startswith(prefix)
        for s in family.samples
        if not s.name.endswith(("_bucket", "_created"))
    ]
    return sorted(samples, key=lambda s: (s.name, s.labels))
