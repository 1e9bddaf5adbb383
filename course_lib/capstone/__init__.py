"""The capstone: the whole shop running on the real brokers, a chaos drill, and the invariants that must survive it.

``system`` wires the existing pieces together (``CapstoneShop``); ``invariants`` checks the end state.
"""

from course_lib.capstone.invariants import Report, applied_twice, check, unsettled
from course_lib.capstone.system import (
    TERMINAL_STATUSES,
    CapstoneShop,
    Crashes,
    FanOutPublisher,
    InjectedCrash,
    Metrics,
    Names,
    run_traffic,
)
from course_lib.shop.catalog import PRICES
from course_lib.shop.saga import saga_facts

__all__ = [
    "PRICES", "TERMINAL_STATUSES", "CapstoneShop", "Crashes", "FanOutPublisher", "InjectedCrash", "Metrics", "Names",
    "Report", "applied_twice", "check", "run_traffic", "saga_facts", "unsettled",
]
