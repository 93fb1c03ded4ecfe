"""One style for names in `--help`: upper-case placeholders, no type annotations.

Typer's help shows every parameter's Python type (`<str>`, `<bool>`, `<list[str]>`,
`<int range> [x<=2147483647]`) and wraps required arguments in braces (`{NAME}`). That is
noise to a reader and reads like three styles at once. Here, as in `gh` or `git`:

- arguments and option values are upper-case placeholders: `LICENSE_ID`, `TEXT`, `N`,
  or the metavar the command gave (`DAYS`, `FILE`); a choice lists its values (`mine|customer`);
- a flag has no placeholder at all;
- a number shows its range only when the range says something (`x>=1`), not the storage
  limit every count has.

Typer has no per-parameter hook for this, so `apply()` replaces the two methods that
format these columns, once, at start-up. tests/test_help.py pins the result, so an
upgrade of Typer that changes them fails loudly instead of printing the old noise.
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperArgument, TyperOption

from licensectl.domain import COUNT_MAX


def _placeholder(param: Any) -> str | None:
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        return None
    if param.metavar is not None:
        return str(param.metavar)
    desc = param.type_descriptor
    if desc.is_choice:
        return "|".join(str(getattr(c, "value", c)) for c in desc.choices or ())
    annotation = desc.annotation
    if desc.is_list:
        (annotation,) = getattr(annotation, "__args__", (str,))
    if annotation is int:
        return "N"
    if annotation is float:
        return "NUMBER"
    return "TEXT"


def _option_type(self: TyperOption, ctx: Any) -> str | None:  # noqa: ARG001 - Typer's signature
    return _placeholder(self)


def _argument_type(self: TyperArgument, ctx: Any) -> str | None:  # noqa: ARG001
    return None  # the argument's name is its placeholder already


def _usage_name(self: TyperArgument) -> str:
    name = _display_name(self)
    if not self.required:
        name = f"[{name}]"
    return name + ("..." if self.nargs != 1 else "")


def _range(self: TyperOption) -> str | None:
    low = self.min
    high = None if self.max == COUNT_MAX else self.max
    if low is None and high is None:
        return None
    if high is None:
        return f"x>={low}"
    return f"x<={high}" if low is None else f"{low}<=x<={high}"


def _display_name(self: TyperArgument) -> str:
    return str(self.metavar or (self.name or "").upper())


def apply() -> None:
    TyperOption.display_type_rich = _option_type  # type: ignore[method-assign]
    TyperArgument.display_type_rich = _argument_type  # type: ignore[method-assign,assignment]
    TyperArgument._usage_display_name = _usage_name  # type: ignore[method-assign]
    TyperArgument.display_name_raw = property(_display_name)  # type: ignore[assignment]
    TyperOption._get_number_range_help_str = _range  # type: ignore[method-assign]
