"""A fleet: many portfolios in one PostgreSQL database, kept on target by any number of workers.

``store.py`` keeps the portfolios (their configs, which name secrets but never hold them), their
schedules and the fleet's clock; ``queue.py`` is the job engine (procrastinate) that hands each
due slot's check to exactly one worker, one job per portfolio at a time, and gives a dead
worker's job to another; ``worker.py`` runs the checks through the same composition root as
``trimtab run``. The executor's persisted run in the journal stays the one source of truth for
what was sent: the engine only schedules, distributes and retries. See docs/FLEET.md.
"""
