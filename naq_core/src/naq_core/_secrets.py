"""Masking secrets in everything naq shows: reprs, error messages, log events, ``naq config show``.

Two ways, used together:

- **by key**: a setting whose name looks secret (:func:`is_secret_key`: ``password``,
  ``passwd``, ``secret``, ``token``, ``seed``, ``credentials``, ``auth``, ``key``,
  ``api_key``, ... but not ``key_file`` or ``tls_key_path``, which name a file) is shown as
  ``***``; so is the user-info of every URL (:func:`mask_url`);
- **by value**: once a secret's value is known (a password, a token, the user-info of a URL,
  a plugin's secret field), any text naq prints has it replaced by ``***``
  (:func:`mask_text`). Values shorter than :data:`MIN_LEN` characters are masked by key only,
  not wherever they happen to occur in a text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from naq_core.config import Config

__all__ = [
    "MASK",
    "MIN_LEN",
    "config_secrets",
    "is_secret_key",
    "leaves",
    "mask_text",
    "mask_tree",
    "mask_url",
    "mask_value",
    "url_secrets",
]

MASK = "***"
#: Known secret values shorter than this are not searched for in free text.
MIN_LEN = 4

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
# scheme://<user-info>@ inside a text: the user-info runs to the last '@' before a space,
# a quote, a comma or a bracket (a password may hold '@' and '/').
_URL_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^\s'\",<>()\[\]{}]*@")
_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_SECRET_WORD = re.compile(
    r"pass|passwd|password|passphrase|pwd|secrets?|tokens?|seeds?|credentials?|creds|auth"
    r"|authorization|keys?|apikey|privatekey|accesskey|signingkey|secretkey"
)
_PATH_WORD = re.compile(r".*(file|path|dir|filename)")


def is_secret_key(key: str) -> bool:
    """Whether a setting named ``key`` holds a secret (``api_key``: yes; ``key_file``: no).

    The name is split into words (``_``, ``-``, ``.`` and camelCase); it is secret when a word
    is one of password/passwd/pwd/passphrase, secret, token, seed, credential(s)/creds,
    auth/authorization or key (alone or as apikey, privatekey, ...), unless its last word
    names a file, path or directory (the secret is in the file; the path is shown).
    """
    words = [w.lower() for w in _WORDS.findall(key)]
    if not words or _PATH_WORD.fullmatch(words[-1]):
        return False
    return any(_SECRET_WORD.fullmatch(word) for word in words)


def mask_url(url: str) -> str:
    """``nats://user:pass@host:4222`` -> ``nats://***@host:4222``.

    Everything up to the last ``@`` is user-info, so a password holding ``@`` or ``/``
    is hidden too; a URL without user-info is returned as it is.
    """
    scheme = _SCHEME.match(url)
    prefix = scheme.group(0) if scheme else ""
    rest = url[len(prefix) :]
    if "@" not in rest:
        return url
    return f"{prefix}{MASK}@{rest.rpartition('@')[2]}"


def url_secrets(url: str) -> list[str]:
    """The secret parts of a URL's user-info: the password (or the token), and the whole."""
    scheme = _SCHEME.match(url)
    rest = url[len(scheme.group(0)) if scheme else 0 :]
    if "@" not in rest:
        return []
    info = rest.rpartition("@")[0]
    _user, colon, password = info.partition(":")
    return [info, password] if colon else [info]


def leaves(value: Any) -> list[str]:
    """The text of every scalar inside ``value`` (a secret may be a number or a list)."""
    if value is None or value == "":
        return []
    if isinstance(value, Mapping):
        return [text for item in value.values() for text in leaves(item)]
    if isinstance(value, list | tuple | set | frozenset):
        return [text for item in value for text in leaves(item)]
    return [str(value)]


def mask_text(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with URL user-info and each known secret (of :data:`MIN_LEN` or more) masked."""
    for secret in sorted({s for s in secrets if len(s) >= MIN_LEN}, key=len, reverse=True):
        text = text.replace(secret, MASK)
        escaped = repr(secret)[1:-1]
        if escaped != secret:
            text = text.replace(escaped, MASK)
    return _URL_USERINFO.sub(lambda m: f"{m.group(1)}{MASK}@", text)


def mask_value(text: str, value: Any) -> str:
    """``text`` (an error about the secret ``value``) with the value masked, however short."""
    if value is not None and value != "":
        text = text.replace(repr(value), MASK)
        for leaf in leaves(value):
            text = text.replace(repr(leaf), MASK).replace(leaf, MASK)
    return mask_text(text)


def mask_tree(values: Mapping[str, Any]) -> dict[str, Any]:
    """A (plugin) table for display: secret-looking keys as ``***``, URL user-info masked."""
    return {key: _mask_item(key, value) for key, value in values.items()}


def _mask_item(key: str, value: Any) -> Any:
    if isinstance(value, Mapping):
        return mask_tree(value)
    if is_secret_key(key) and value not in (None, "", [], {}):
        return MASK
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, list | tuple):
        return [_mask_item("", item) for item in value]
    return value


def config_secrets(config: Config) -> list[str]:
    """The known secret values of a configuration: password, token, URL user-info, and the
    values of secret-looking keys in plugin tables."""
    found = [*leaves(config.password), *leaves(config.token)]
    for url in config.nats_url:
        found.extend(url_secrets(url))
    found.extend(_tree_secrets(config.plugins))
    return found


def _tree_secrets(values: Mapping[str, Any]) -> list[str]:
    found: list[str] = []
    for key, value in values.items():
        if isinstance(value, Mapping):
            found.extend(_tree_secrets(value))
        elif is_secret_key(key):
            found.extend(leaves(value))
    return found
