"""naq-pickle-unsafe: a pickle serializer for naq (``serializer = "pickle"``).

UNSAFE: decoding a pickle can run arbitrary code, so anyone who can publish to naq's
subjects can run code on the workers. The serializer is always registered, but naq only
uses it when the configuration selects it, and then warns loudly.
"""

from __future__ import annotations

from collections.abc import Callable

from naq_core.hookspecs import hookimpl
from naq_core.serializer import Serializer
from naq_pickle_unsafe.serializer import PickleSerializer

__all__ = ["PickleSerializer", "naq_register_serializers"]

__version__ = "0.2.0"


@hookimpl
def naq_register_serializers(register: Callable[[Serializer], None]) -> None:
    """Offer the ``pickle`` serializer (``unsafe = True``)."""
    register(PickleSerializer())
