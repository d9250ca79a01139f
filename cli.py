"""Run the regime command line from a source checkout: `python cli.py --help`."""

from rulesengine.cli import main

if __name__ == "__main__":
    main()
