"""`python -m dockerhub_cli` is the same as the `dockerhub` console script."""

from dockerhub_cli.cli import main

if __name__ == "__main__":
    main()
