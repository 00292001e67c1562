"""``python -m agent``: the `screenloop` command line."""

from agent._cli import main

if __name__ == "__main__":
    main()
