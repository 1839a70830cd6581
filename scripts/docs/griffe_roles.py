"""A griffe extension (``mkdocs.yml``: mkdocstrings' ``extensions``): Sphinx roles as Markdown links.

r1gym's docstrings name objects the Sphinx way, ``:class:`~r1gym.core.env.ReasoningEnv```,
``:func:`evaluate```, which Markdown would show as they are written. This turns each role into an
autorefs cross-reference, ``[`ReasoningEnv`][r1gym.core.env.ReasoningEnv]``, when its target
resolves (from the object's scope: its members, its module's imports, then as a full path) to an
object the API reference renders: a path with no private part (``__init__`` included) whose
objects have docstrings. Any other target (a private helper, a name from another package) becomes
plain code. A ``~`` keeps the last name only, as in Sphinx. The docstrings in the source do not
change.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:class|func|meth|mod|data|attr|exc|obj|const|py:\w+):`(~?)([^`<>]+?)`")


class RolesToCrossRefs(griffe.Extension):
    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        if pkg.name != "r1gym":
            return
        self.collection = loader.modules_collection
        for obj in _walk(pkg):
            if obj.docstring is not None and ":" in obj.docstring.value:
                obj.docstring.value = _ROLE.sub(
                    lambda m, o=obj: self._link(o, m.group(1) == "~", m.group(2)), obj.docstring.value
                )

    def _link(self, obj: griffe.Object, short: bool, target: str) -> str:
        target = target.strip().rstrip("()")
        shown = target.rsplit(".", 1)[-1] if short else target
        path = self._resolve(obj, target)
        if path is None:
            return f"`{shown}`"
        return f"[`{shown}`][{path}]"

    def _resolve(self, obj: griffe.Object, target: str) -> str | None:
        """The canonical path of the rendered object ``target`` names from ``obj``'s scope, or None."""
        first, _, rest = target.partition(".")
        candidates = []
        scope: griffe.Object | None = obj
        while scope is not None:
            try:
                candidates.append(scope.resolve(first) + ("." + rest if rest else ""))
            except Exception:  # noqa: BLE001, S112  # not a name of this scope: try the enclosing one
                pass
            scope = scope.parent
        candidates.append(target)
        for path in candidates:
            found = self._rendered(path)
            if found is not None:
                return found
        return None

    def _rendered(self, path: str) -> str | None:
        try:
            found = self.collection[path]
            if found.is_alias:
                found = found.final_target
        except Exception:  # noqa: BLE001  # unknown, or an alias to another package
            return None
        canonical = found.path
        if not canonical.startswith("r1gym") or any(p.startswith("_") for p in canonical.split(".")):
            return None
        node: Any = found
        while node is not None and not node.is_module:
            if node.docstring is None:  # not rendered (show_if_no_docstring is off), so no anchor
                return None
            node = node.parent
        return canonical


def _walk(obj: griffe.Object):
    yield obj
    for member in obj.members.values():
        if member.is_alias:
            continue
        yield from _walk(member)
