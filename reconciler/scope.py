"""What one run covers: every project, or those picked by `--shard i/n` and `--project`.

A sharded CI matrix runs the same command several times at once; each run must own its
own PR comment, drift issue and Aviator outcome (DESIGN.md section 9: "no scope ever
rewrites another's"), so each report is labelled with its scope and found again by it.
"""

import hashlib
import re
from dataclasses import dataclass

# What may appear in a marker or a title as is; other project keys are hashed. No '.':
# it joins a key's parts, so a project named "web.shard-1-of-2" must not pass as a shard.
SAFE = re.compile(r"[A-Za-z0-9_-]+")
MAX_KEY = 80


@dataclass(frozen=True)
class Scope:
    shard: tuple[int, int] | None = None
    projects: tuple[str, ...] = ()

    @classmethod
    def of(cls, shard: tuple[int, int] | None, projects: tuple[str, ...] | list[str]) -> "Scope":
        return cls(shard, tuple(sorted(set(projects))))

    @property
    def whole(self) -> bool:
        return self.shard is None and not self.projects

    @property
    def label(self) -> str:
        """How people read it: "shard 2/3", "project web", "projects a, b, shard 1/2";
        "" for the whole repository."""
        parts = []
        if self.projects:
            noun = "project" if len(self.projects) == 1 else "projects"
            parts.append(f"{noun} {', '.join(self.projects)}")
        if self.shard is not None:
            parts.append(f"shard {self.shard[0]}/{self.shard[1]}")
        return ", ".join(parts)

    @property
    def key(self) -> str:
        """How markers name it: only [A-Za-z0-9._-], so no hostile project key can close
        an HTML comment or look like another scope; "" for the whole repository."""
        parts = []
        if self.projects:
            joined = "+".join(self.projects)
            if not all(SAFE.fullmatch(p) for p in self.projects) or len(joined) > MAX_KEY:
                joined = "sha256-" + hashlib.sha256("\n".join(self.projects).encode()
                                                    ).hexdigest()[:16]
            parts.append(f"projects-{joined}")
        if self.shard is not None:
            parts.append(f"shard-{self.shard[0]}-of-{self.shard[1]}")
        return ".".join(parts)

    def empty_message(self) -> str:
        """What an empty selection says instead of "no changes", for every renderer (a
        --project missing from git is an error, so a shard is what usually empties a run)."""
        named = " ".join(f"--project {key}" for key in self.projects)
        if self.shard is not None:
            where = f"shard {self.shard[0]}/{self.shard[1]}"
            return f"{where} holds none of {named}" if self.projects else \
                f"{where} holds no projects"
        return f"no project matches {named}" if self.projects else "no project was selected"


WHOLE = Scope()  # every project in git
