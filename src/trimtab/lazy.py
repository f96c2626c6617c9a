"""Lazy re-exports for package ``__init__`` modules: a name's module is imported on first use,
so ``import trimtab.backtest`` (or the core) does not pay for machinery it does not need."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str], namespace: dict[str, Any]) -> tuple[
    Callable[[str], Any], Callable[[], list[str]]
]:
    """``(__getattr__, __dir__)`` for ``package``, resolving each name from ``exports[name]``
    (a module path; a name that maps to ``package.name`` is that submodule itself)."""

    def __getattr__(name: str) -> Any:
        if name in exports:
            module = import_module(exports[name])
            value = module if exports[name] == f"{package}.{name}" else getattr(module, name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted([*namespace, *exports])

    return __getattr__, __dir__
