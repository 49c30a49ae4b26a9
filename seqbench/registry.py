"""A small name -> object registry with "did you mean" and entry-point plugins.

    MODELS = Registry("model", entry_point_group="seqbench.models")

    @MODELS.register("lstm", sequential=True)
    def build_lstm(...): ...

    MODELS.get("lstn")  # UserError: unknown model 'lstn'; did you mean 'lstm'? available: ...

Plugins come from entry points, or from Python files that register items when imported
(`--plugin mymodel.py`). The files are named in $SEQBENCH_PLUGINS, so that sweep workers, which
start as fresh interpreters, import them too.
"""
from __future__ import annotations

import difflib
import hashlib
import importlib.util
import os
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Callable, Generic, TypeVar

from .errors import UserError

T = TypeVar("T")
PLUGIN_FILES = "SEQBENCH_PLUGINS"  # plugin files, separated by os.pathsep
_imported_files: set[Path] = set()


def load_plugin_file(path: str | Path) -> None:
    """Import a plugin file once per process, e.g. one that registers a model with
    `@MODELS.register("mymodel")`. A missing or broken file is one UserError."""
    path = Path(path).resolve()
    if path in _imported_files:
        return
    if not path.is_file():
        raise UserError(f"plugin {path}: no such file; pass the path of a Python file, e.g. --plugin mymodel.py")
    name = "seqbench_plugin_" + hashlib.sha256(str(path).encode()).hexdigest()[:10]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise UserError(f"plugin {path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look the module up by name
    _imported_files.add(path)
    try:
        spec.loader.exec_module(module)
    except UserError:
        raise
    except Exception as exc:
        raise UserError(f"plugin {path} failed to import: {type(exc).__name__}: {exc}") from exc


def plugin_files() -> list[Path]:
    return [Path(p) for p in os.environ.get(PLUGIN_FILES, "").split(os.pathsep) if p]


class Registry(Generic[T]):
    def __init__(self, kind: str, entry_point_group: str | None = None):
        self.kind = kind
        self.entry_point_group = entry_point_group
        self._items: dict[str, T] = {}
        self._meta: dict[str, dict[str, Any]] = {}
        self._plugins_loaded = entry_point_group is None

    def register(self, name: str, obj: T | None = None, **meta: Any) -> Callable[[T], T] | T:
        """Register `obj` under `name`; used bare as a decorator when `obj` is None."""

        def add(item: T) -> T:
            if name in self._items and self._items[name] is not item:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._items[name] = item
            self._meta[name] = meta
            return item

        return add if obj is None else add(obj)

    def _load_plugins(self) -> None:
        # Plugins load lazily, once: importing them may register further items.
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        for ep in entry_points(group=self.entry_point_group):
            if ep.name in self._items:
                continue
            try:
                item = ep.load()
            except Exception as exc:  # a broken plugin must not break the built-ins
                raise UserError(f"plugin {self.kind} {ep.name!r} ({ep.value}) failed to load: {exc}") from exc
            if ep.name not in self._items:
                self.register(ep.name, item, plugin=ep.value)
        for path in plugin_files():
            load_plugin_file(path)

    def get(self, name: str) -> T:
        self._load_plugins()
        if name not in self._items:
            raise UserError(self.unknown_message(name))
        return self._items[name]

    def meta(self, name: str) -> dict[str, Any]:
        self.get(name)
        return self._meta[name]

    def unknown_message(self, name: str) -> str:
        names = self.names()
        close = difflib.get_close_matches(str(name), names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"unknown {self.kind} {name!r}{hint} available: {', '.join(names)}"

    def names(self) -> list[str]:
        self._load_plugins()
        return sorted(self._items)

    def __contains__(self, name: str) -> bool:
        self._load_plugins()
        return name in self._items
