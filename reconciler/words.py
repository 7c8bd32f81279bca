"""Counts in words, for every message the tool prints."""


def plural(count: int, noun: str, many: str | None = None) -> str:
    """`1 project`, `2 projects`; `many` for irregular nouns (`1 entry`, `3 entries`)."""
    return f"{count} {noun if count == 1 else many or noun + 's'}"


def listing(parts: list[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    return " and ".join([", ".join(parts[:-1]), parts[-1]] if len(parts) > 2 else parts)
