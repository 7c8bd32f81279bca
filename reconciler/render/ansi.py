"""ANSI colour for the terminal rendering, without a terminal library: the renderer only
builds strings; printing them is the CLI's job."""

from typing import Literal

Colour = Literal["red", "green", "yellow", "magenta", "cyan"]

# SGR codes, the same bytes click.style writes, so that colour output did not change when
# the renderer stopped importing click.
_FOREGROUND: dict[Colour, int] = {"red": 31, "green": 32, "yellow": 33, "magenta": 35,
                                  "cyan": 36}
_BOLD, _DIM, _RESET = "\x1b[1m", "\x1b[2m", "\x1b[0m"


def style(text: str, *, fg: Colour | None = None, bold: bool = False, dim: bool = False) -> str:
    """`text` in colour `fg`, bold and/or dim, then everything reset."""
    start = (f"\x1b[{_FOREGROUND[fg]}m" if fg is not None else "") + (_BOLD if bold else "") \
        + (_DIM if dim else "")
    return f"{start}{text}{_RESET}"
