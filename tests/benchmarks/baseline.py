"""Baseline B1: the W1 fetch as a user would script it by hand with LaunchDarkly's official
Python client: one list call per project, one after the other.

    python -m tests.benchmarks.baseline BASE_URL PIPELINES_DIR

reads the token from LAUNCHDARKLY_ACCESS_TOKEN, lists the pipelines of every project
folder in PIPELINES_DIR and prints how many it found.
"""

import os
import sys
import warnings
from pathlib import Path

import launchdarkly_api
from launchdarkly_api.api.release_pipelines_deprecated_api import ReleasePipelinesDeprecatedApi


def main(base_url: str, pipelines_dir: Path) -> None:
    # The 25.x client marks every release-pipeline call as deprecated.
    warnings.simplefilter("ignore", DeprecationWarning)
    configuration = launchdarkly_api.Configuration(host=base_url)
    configuration.api_key["ApiKey"] = os.environ["LAUNCHDARKLY_ACCESS_TOKEN"]
    client = launchdarkly_api.ApiClient(configuration)
    client.default_headers["LD-API-Version"] = "beta"  # the release-pipeline routes need it
    pipelines = ReleasePipelinesDeprecatedApi(client)
    found = 0
    for project in sorted(p.name for p in pipelines_dir.iterdir() if p.is_dir()):
        found += len(pipelines.get_all_release_pipelines(project, limit=20).items)
    print(f"{found} pipelines")


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
