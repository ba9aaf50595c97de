"""Help text in the shape users know from other tools.

Typer (0.2x) writes a type placeholder after every flag (``--json <bool>``) and wraps
required arguments in braces (``assay run [OPTIONS] {file}``). Neither is a value to type, so
flags show nothing after them and arguments show their name in capitals (``FILE``), as
click and most command-line tools do. Applied once, when the ``assay`` command is built.
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperArgument, TyperOption

_option_type = TyperOption.display_type_rich


def _flag_has_no_type(self: TyperOption, ctx: Any) -> str | None:
    return None if self.is_flag else _option_type(self, ctx)


def _plain_argument(self: TyperArgument) -> str:
    name = (self.metavar or self.name or "").upper()
    if not self.required:
        name = f"[{name}]"
    return name + ("..." if self.nargs != 1 else "")


def plain_help() -> None:
    """Make typer's help text plain (see the module docstring); idempotent."""
    replacements: list[tuple[type[Any], str, Any]] = [
        (TyperOption, "display_type_rich", _flag_has_no_type),
        (TyperArgument, "_usage_display_name", _plain_argument),
    ]
    for cls, name, function in replacements:
        setattr(cls, name, function)
