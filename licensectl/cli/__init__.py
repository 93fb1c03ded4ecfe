"""The command-line interface: Typer groups, one module per noun."""
