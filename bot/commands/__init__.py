"""The `ventanilla` commands, one module per group; `bot/cli.py` puts them on one parser."""
