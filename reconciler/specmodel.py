"""What every model of a LaunchDarkly request shares, whatever its kind."""

import re

from pydantic import BaseModel, ConfigDict

# LaunchDarkly keys: start with a letter or digit, then letters, digits, '.', '_' or '-'.
KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
KEY_RE = re.compile(KEY_PATTERN)
# The specs' `format: int64` (monitoringWindowMilliseconds, durationMillis).
INT64_MAX = 2**63 - 1


class SpecModel(BaseModel):
    """Strict: unknown fields and wrong types are errors, never coerced."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)
