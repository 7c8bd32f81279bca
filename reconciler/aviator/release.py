"""The release candidate an apply reports: the commit being applied, from GitHub Actions'
variables or else git, and its version `<YYYY.MM.DD>-<shortsha>-rc1` (DESIGN.md section 8).

The date is the commit's (UTC), so every re-run for a commit names the same release
candidate; only when git cannot tell is it today's.
"""

import re
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from reconciler.aviator.client import check_version
from reconciler.errors import SettingsError

SHA = re.compile(r"[0-9a-f]{7,64}")
REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
# The OWNER/NAME at the end of a remote URL: git@host:o/n.git, https://host/o/n(.git)
REMOTE = re.compile(r"[:/](?P<repo>[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+?)(?:\.git)?/?$")
SHORT_SHA = 7

Git = Callable[[list[str]], str | None]


def run_git(args: list[str]) -> str | None:
    """git's output in the working directory, or None when git fails or is absent."""
    try:
        done = subprocess.run(["git", *args], capture_output=True, text=True, timeout=10,
                              check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


@dataclass(frozen=True)
class Commit:
    sha: str
    repo: str  # OWNER/NAME
    day: date

    @property
    def version(self) -> str:
        return check_version(f"{self.day:%Y.%m.%d}-{self.sha[:SHORT_SHA]}-rc1")


def _repo_from_remote(url: str | None) -> str | None:
    # Only OWNER/NAME is kept: the URL itself may carry credentials.
    found = REMOTE.search(url or "")
    return found["repo"] if found else None


def current_commit(environ: Mapping[str, str], git: Git = run_git,
                   today: Callable[[], date] = lambda: datetime.now(UTC).date()) -> Commit:
    """GITHUB_SHA and GITHUB_REPOSITORY, each else git's HEAD and origin remote."""
    sha = (environ.get("GITHUB_SHA", "").strip() or git(["rev-parse", "HEAD"]) or "").lower()
    if not SHA.fullmatch(sha):
        raise SettingsError(f"cannot tell the commit: GITHUB_SHA {sha!r} is not a commit SHA"
                            if sha else "cannot tell the commit: set GITHUB_SHA (or run in git)")
    repo = (environ.get("GITHUB_REPOSITORY", "").strip()
            or _repo_from_remote(git(["config", "--get", "remote.origin.url"])) or "")
    if not REPOSITORY.fullmatch(repo):
        raise SettingsError(f"cannot tell the repository: GITHUB_REPOSITORY {repo!r} is not "
                            "OWNER/NAME" if repo else
                            "cannot tell the repository: set GITHUB_REPOSITORY=OWNER/NAME")
    stamp = git(["show", "-s", "--format=%ct", sha])
    day = datetime.fromtimestamp(int(stamp), UTC).date() if stamp and stamp.isdigit() else today()
    return Commit(sha, repo, day)
