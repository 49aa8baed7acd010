"""naq-plugin-example: dead letters kept as one JSON file each in a directory.

This module is the plugin object: the ``naq`` entry point ``plugin-example`` names it, and
naq registers the ``@hookimpl`` functions it holds. It implements two hooks:

* ``naq_plugin_settings`` declares the ``[tool.naq.plugin_example]`` table (``settings.py``);
* ``naq_register_dead_letter_sinks`` gives each worker a :class:`DirectorySink` writing to the
  ``directory`` of that worker's configuration (command-line flags and ``NAQ_*`` variables
  applied), read from the ``config`` argument of the hook.

Nothing happens at import: naq imports plugins when it builds its plugin manager.
"""

from __future__ import annotations

from collections.abc import Callable

from naq_core import Config, DeadLetterSink, hookimpl

from naq_plugin_example.settings import Settings, naq_plugin_settings, settings_of
from naq_plugin_example.sink import DirectorySink

__all__ = ["DirectorySink", "Settings", "naq_plugin_settings", "naq_register_dead_letter_sinks"]

__version__ = "0.1.0"


@hookimpl
def naq_register_dead_letter_sinks(register: Callable[[DeadLetterSink], None], config: Config) -> None:
    """Offer a :class:`DirectorySink` for the ``directory`` of the worker's configuration."""
    register(DirectorySink(settings_of(config).directory))
