"""The least-privilege NATS permissions of ``docs/security.md``, for tests that run them.

What is documented is what is tested: :func:`documented_config` reads the one ``conf``
block of the page's "Permissions (least privilege)" section, and a test starts its server
with it and :data:`PASSWORDS` in the environment (the block reads each role's password from
an environment variable)::

    with pytest.MonkeyPatch.context() as mp:
        for name, value in PASSWORDS.items():
            mp.setenv(name, value)
        server = start_test_server(tmp, extra_config=documented_config(doc))

The page lives in the repository, not in the installed package, so the caller passes its
path (found relative to the test file).
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["PASSWORDS", "documented_config"]

#: The environment variables the documented configuration reads, with test passwords.
PASSWORDS = {
    "NAQ_ADMIN_PASSWORD": "admin-pw",
    "NAQ_PRODUCER_PASSWORD": "producer-pw",
    "NAQ_WORKER_PASSWORD": "worker-pw",
    "NAQ_OBSERVER_PASSWORD": "observer-pw",
}

_SECTION = "\n## Permissions (least privilege)\n"


def documented_config(doc: Path) -> str:
    """The one ``conf`` code block of the "Permissions (least privilege)" section of ``doc``.

    Raises :class:`ValueError` when the page has no such section or the section does not
    hold exactly one ``conf`` block.
    """
    text = doc.read_text(encoding="utf-8")
    if _SECTION not in text:
        raise ValueError(f"{doc} has no '## Permissions (least privilege)' section")
    section = text.split(_SECTION, 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```conf\n(.*?)```", section, flags=re.DOTALL)
    if len(blocks) != 1:
        raise ValueError(f"the Permissions section of {doc} has {len(blocks)} conf blocks, not one")
    return str(blocks[0])
