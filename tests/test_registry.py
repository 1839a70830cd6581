"""core's Registry: how the bottom layer resolves names the layers above define."""

from __future__ import annotations

import pytest

from r1gym.core.registry import Registry, import_target


def test_register_refuses_a_taken_name_unless_asked() -> None:
    reg: Registry[object] = Registry("widget")
    a, b = object(), object()
    assert reg.register("a", a) is a
    reg.register("a", a)  # the same object again: nothing to do
    with pytest.raises(ValueError, match="widget 'a' is already registered; pass replace=True"):
        reg.register("a", b)
    reg.register("a", b, replace=True)
    assert reg["a"] is b and list(reg) == ["a"] and len(reg) == 1
    with pytest.raises(TypeError, match="non-empty string"):
        reg.register("", a)


def test_check_rejects_the_wrong_kind() -> None:
    def must_be_int(obj: object) -> None:
        if not isinstance(obj, int):
            raise TypeError("a widget is an int")

    reg: Registry[int] = Registry("widget", must_be_int)
    with pytest.raises(TypeError, match="a widget is an int"):
        reg.register("x", "3")  # type: ignore[arg-type]


def test_lazy_entries_import_on_first_read() -> None:
    reg: Registry[object] = Registry("function")
    reg.register_lazy("sqrt", "math:sqrt")
    assert "sqrt" in reg and list(reg) == ["sqrt"]
    assert reg.get("sqrt")(9.0) == 3.0 and reg.resolve("sqrt") is import_target("math:sqrt")
    assert reg.get("missing") is None and reg.get("missing", 7) == 7
    with pytest.raises(KeyError):
        reg["missing"]


def test_factories_build_names_of_their_prefix() -> None:
    reg: Registry[str] = Registry("shape")
    reg.register_factory("upper", "builtins:str.upper")  # str.upper("upper:ab") -> "UPPER:AB"
    assert reg.resolve("upper:ab") == "UPPER:AB"


def test_providers_are_imported_on_a_miss() -> None:
    """A pickled problem names an operation that only its domain registers: resolve() imports
    the domain (a provider) and looks again; a provider whose dependency is missing is skipped."""
    from r1gym.core.ops import OPS

    assert "r1gym.tasks.physics" in OPS._providers
    assert OPS.resolve("sqrt").name == "sqrt"
    reg: Registry[object] = Registry("thing")
    reg.register_provider("no_such_module_anywhere")
    reg.register("thing", 1)
    with pytest.raises(ValueError, match=r"unknown thing 'thingg'\. Did you mean 'thing'\? Valid: \['thing'\]"):
        reg.resolve("thingg")
