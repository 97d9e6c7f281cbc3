#!/usr/bin/env python3
"""Writes action.yml's composite steps as a workflow (JSON, which is YAML) so actionlint checks them: its inputs
become workflow_call inputs (so `inputs.x` is typed and misspelt inputs are errors), its steps one job's steps.
actionlint itself reads action metadata only for local `uses: ./` steps. Usage: action-as-workflow.py ACTION OUT"""
import json
import sys

import yaml

action = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
runs = action["runs"]
if runs.get("using") != "composite":
    sys.exit(f"{sys.argv[1]}: runs.using is {runs.get('using')!r}, expected composite")
for name, out in action.get("outputs", {}).items():
    if "value" not in out:
        sys.exit(f"{sys.argv[1]}: output {name} has no value (a composite action's outputs need one)")
for i, step in enumerate(runs["steps"]):
    if "run" in step and "shell" not in step:
        sys.exit(f"{sys.argv[1]}: step {i} has run but no shell (composite actions require it)")
workflow = {
    "name": "action.yml (as a workflow)",
    "on": {"workflow_call": {"inputs": {
        name: {"type": "string", "required": False, "default": str(spec.get("default", ""))}
        for name, spec in action.get("inputs", {}).items()
    }}},
    "jobs": {"action": {"runs-on": "ubuntu-latest", "steps": runs["steps"]}},
}
json.dump(workflow, open(sys.argv[2], "w", encoding="utf-8"), indent=1)
