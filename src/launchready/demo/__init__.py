"""A deliberately configurable B2B client portal for `launchready demo` and the test suite.

It stands apart from the scanner (nothing here imports the rest of launchready) so the checks are
exercised against a real HTTPS server rather than against mocks: every entry in `FLAWS` switches
one weakness on, and the empty set gives the hardened portal that must scan clean.
"""

from .flaws import FLAWS
from .server import DemoPortal, start_demo

__all__ = ["FLAWS", "DemoPortal", "start_demo"]
