"""The harness itself in a real browser: a run starts only once the page, not just the server, has the kernel."""

from __future__ import annotations

from tests.browser.lab import LabPage

# Holds back the page's session look-ups (GET /api/sessions) for 3 s: the page shows the notebook's cells while it
# does not yet know the kernel that the server already runs for it — the window a loaded machine opens by itself.
_SLOW_SESSION_LOOKUPS = """(() => {
    const realFetch = window.fetch.bind(window);
    window.fetch = (input, init) => {
        const url = input instanceof Request ? input.url : String(input);
        const later = new Promise(resolve => setTimeout(resolve, 3000));
        return /\\/api\\/sessions/.test(url) ? later.then(() => realFetch(input, init)) : realFetch(input, init);
    };
})();"""


def test_a_notebook_whose_kernel_runs_already_is_run_once_the_page_has_connected(lab_page: LabPage) -> None:
    lab_page.open_notebook("01_events_as_facts.ipynb")  # starts its kernel, as an earlier test in the same server
    lab_page.page.context.add_init_script(_SLOW_SESSION_LOOKUPS)
    lab_page.open_notebook("01_events_as_facts.ipynb")  # loaded anew, while the server reports it idle
    lab_page.run_all_but_last(timeout_s=30)
    assert lab_page.errors() == []
    assert lab_page.widget("course-event-inspector").is_visible()
    lab_page.run_last_cell()
