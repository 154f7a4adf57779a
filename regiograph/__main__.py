"""`python -m regiograph` runs the CLI."""

from regiograph.cli import main

if __name__ == "__main__":
    main()
