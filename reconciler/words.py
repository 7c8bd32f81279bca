"""Counts in words, for every message the tool prints."""


def plural(count: int, noun: str, many: str | None = None) -> str:
    """`1 project`, `2 projects`; `many` for irregular nouns (`1 entry`, `3 entries`)."""
    return f"{count} {noun if count == 1 else many or noun + 's'}"
