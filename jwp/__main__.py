"""`python -m jwp` runs the `jwp` command."""

from jwp.cli.main import main

main()
