#!/usr/bin/env bash
# The README's demo, command for command (tests/integration/test_readme.py checks that the
# `step` lines are the README's Quick start session): validate git, plan a project's release
# pipelines and release policies against a sandbox whose live state differs, apply with
# Aviator reporting, and plan again to show that live now equals git. Offline, no token. Run from the repository's root, after .venv is built.
set -euo pipefail
rm -rf .demo

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

step source .venv/bin/activate
step reconciler validate
step reconciler sandbox seed --state .demo/state.json scripts/demo-live.yaml
step reconciler plan --sandbox .demo/state.json --out .demo/plan.json
step export AVIATOR_API_TOKEN=demo-token AVIATOR_PROJECT=web-pipelines AVIATOR_ENVIRONMENT=production
step export GITHUB_REPOSITORY=acme/release-pipelines
step reconciler apply --sandbox .demo/state.json .demo/plan.json
step reconciler plan --sandbox .demo/state.json --detailed-exitcode
step reconciler aviator deployments --sandbox .demo/state.json
step reconciler graph --project web --pipeline standard --format text
