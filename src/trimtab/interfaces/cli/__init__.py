"""The command line: typer commands that parse, call the composition root and the engine, and render."""
