"""The engine: the executor (a persisted state machine), its guards and lock, and the agent loop."""
