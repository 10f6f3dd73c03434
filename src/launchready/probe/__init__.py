"""The only door to the outside world. Every probe a check sends goes through this package."""
