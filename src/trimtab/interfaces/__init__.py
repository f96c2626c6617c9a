"""The interfaces: thin layers that parse, call the engine or backtester, and render."""
