"""The capstone: the whole shop running on the real brokers, a chaos drill, and the invariants that must survive it.

``wiring`` is the composition root (stores, bus, saga, topology, topics), ``system`` runs it (``CapstoneShop``),
``invariants`` checks the end state.
"""

from course_lib.capstone.invariants import Report, applied_twice, check, unsettled
from course_lib.capstone.system import (
    TERMINAL_STATUSES,
    CapstoneShop,
    Crashes,
    InjectedCrash,
    Metrics,
    run_traffic,
)
from course_lib.capstone.wiring import FanOutPublisher, Names
from course_lib.shop.catalog import PRICES
from course_lib.shop.saga import saga_facts

__all__ = [
    "PRICES", "TERMINAL_STATUSES", "CapstoneShop", "Crashes", "FanOutPublisher", "InjectedCrash", "Metrics", "Names",
    "Report", "applied_twice", "check", "run_traffic", "saga_facts", "unsettled",
]
