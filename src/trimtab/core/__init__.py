"""The pure core: valuation, drift, triggers, market rules and planning.

Nothing here does I/O, reads a clock or keeps global state: time is an argument and every
result is a frozen value. Live trading and the backtester call these same functions.
"""
