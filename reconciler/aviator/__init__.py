"""Aviator Releases (DESIGN.md section 8): the REST client, and `apply` reported as a
deployment of the commit to one environment."""

from reconciler.aviator.client import (
    AviatorClient,
    Deployment,
    DeploymentStatus,
    InvalidVersion,
    check_version,
)
from reconciler.aviator.release import Commit, current_commit
from reconciler.aviator.reporter import ApplyDeployment, apply_deployment, report_apply
from reconciler.aviator.settings import AviatorSettings, open_client, settings_from_environ

__all__ = [
    "ApplyDeployment",
    "AviatorClient",
    "AviatorSettings",
    "Commit",
    "Deployment",
    "DeploymentStatus",
    "InvalidVersion",
    "apply_deployment",
    "check_version",
    "current_commit",
    "open_client",
    "report_apply",
    "settings_from_environ",
]
