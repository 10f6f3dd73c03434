"""launchready: is a B2B client portal ready for customer onboarding, and what to fix first."""

__version__ = "0.1.0"
