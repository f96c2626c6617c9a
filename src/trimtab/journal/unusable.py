"""Database errors that no retry can fix, as one sentence naming the journal and what to do.

Shared by ``store.Journal`` (SQLAlchemy's ``handle_error``) and ``sqlite_reader.SqliteReader`` (the
stdlib driver behind ``status``), so a damaged or read-only journal reads the same either way.
"""

from __future__ import annotations

from trimtab.errors import ConfigError

#: Words of database errors that no retry can fix: the journal file or server refuses to be used.
_UNUSABLE = {
    "malformed": "is damaged ({error}); move it aside and restore a copy, or pass --new-journal to start a new one",
    "not a database": "is damaged ({error}); move it aside and restore a copy, or pass --new-journal to start a new one",
    "readonly": "is read-only ({error}); make it and its folder writable and run again (an unfinished run resumes, "
                "nothing is sent twice)",
    "read-only": "is read-only ({error}); make it writable for this user and run again (an unfinished run resumes, "
                 "nothing is sent twice)",
    "permission denied": "refused this user ({error}); grant it write access to the journal",
    "disk i/o": "cannot be read or written ({error}); check the disk, and that nothing replaced the file while open",
    "disk is full": "cannot be written ({error}); free some disk space",
    "unable to open": "cannot be opened ({error}); check that its folder exists and is writable",
}


def unusable_sentence(error: BaseException, name: str) -> ConfigError | None:
    words = str(error).split("\n")[0]
    for key, advice in _UNUSABLE.items():
        if key in words.lower():
            return ConfigError(f"The journal {name} {advice.format(error=words)}.")
    return None
