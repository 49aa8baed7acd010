"""JetStream plumbing: the one place naq names and creates things on NATS.

* :mod:`.names`: every stream, bucket, consumer and subject name
* :mod:`.connection`: :func:`~.connection.connect` and :class:`~.connection.Connection`
* :mod:`.provision`: every create-if-missing step (streams, consumers, buckets)
* :mod:`.publish`: batched publishing with acks counted together
* :mod:`.kvscan`: reading whole key-value buckets with one watch
* :mod:`.natspy`: the few nats-py internals naq relies on, one helper each

Layers point one way (checked by import-linter, see the root ``pyproject.toml``): the public
API (:mod:`naq_core.queue`, :mod:`naq_core.worker`, :mod:`naq_core.jetstream`, ...) uses this
package; this package never imports the API. Plugins use :mod:`naq_core.jetstream`.
"""

__all__: list[str] = []
