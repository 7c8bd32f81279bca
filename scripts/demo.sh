#!/usr/bin/env bash
# The README's demo: validate git, plan against a sandbox whose live state differs,
# apply, and plan again to show that live now equals git. Offline, no token.
set -euo pipefail
demo_dir="${1:-.demo}"
state="$demo_dir/state.json"
rm -rf "$demo_dir" && mkdir -p "$demo_dir"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

step reconciler validate
step reconciler sandbox seed --state "$state" scripts/demo-live.yaml
step reconciler plan --sandbox "$state" --out "$demo_dir/plan.json"
# Aviator reporting: these three variables turn it on; with --sandbox it goes to the
# same in-process sandbox, which emulates Aviator's Releases API too.
export AVIATOR_API_TOKEN=demo-token AVIATOR_PROJECT=web-pipelines AVIATOR_ENVIRONMENT=production
export GITHUB_REPOSITORY="${GITHUB_REPOSITORY:-acme/release-pipelines}"  # the commit is HEAD
step reconciler apply --sandbox "$state" "$demo_dir/plan.json"
step reconciler plan --sandbox "$state" --detailed-exitcode
step reconciler aviator deployments --sandbox "$state"
step reconciler graph --project web --pipeline standard --format text
