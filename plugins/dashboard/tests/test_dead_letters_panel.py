"""The "Dead letters" panel (contributed by naq-dlq-stream) in the dashboard's own session.

The scenarios live with the plugin, in plugins/dlq-stream/tests/test_dlq_panel.py (that
session does not install the dashboard, so they are skipped there); they run here too.
"""

from __future__ import annotations

import sys
from pathlib import Path

_DLQ_TESTS = Path(__file__).resolve().parents[2] / "dlq-stream" / "tests"
sys.path.insert(0, str(_DLQ_TESTS))  # test_dlq_panel, dlq_support, dlq_tasks (run by the workers)

from test_dlq_panel import (  # noqa: E402
    test_a_letters_arguments_are_shown_redacted,
    test_a_new_letter_shows_in_the_live_region,
    test_bulk_requeue_of_letters_that_die_again_does_not_loop,
    test_bulk_through_the_api_with_a_filter,
    test_delete_selected,
    test_list_filters_paging_grouping_and_letter_page,
    test_read_only_hides_and_refuses_the_actions,
    test_requeue_one_from_the_page_runs_the_job_again,
    test_the_plugin_never_imports_the_dashboard,
    test_without_dlq_stream_there_is_no_panel_and_the_dashboard_works,
)

__all__ = [
    "test_a_letters_arguments_are_shown_redacted",
    "test_a_new_letter_shows_in_the_live_region",
    "test_bulk_requeue_of_letters_that_die_again_does_not_loop",
    "test_bulk_through_the_api_with_a_filter",
    "test_delete_selected",
    "test_list_filters_paging_grouping_and_letter_page",
    "test_read_only_hides_and_refuses_the_actions",
    "test_requeue_one_from_the_page_runs_the_job_again",
    "test_the_plugin_never_imports_the_dashboard",
    "test_without_dlq_stream_there_is_no_panel_and_the_dashboard_works",
]
