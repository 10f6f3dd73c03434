"""`python -m launchready` runs the command line."""

from launchready.cli import main

main()
