#!/usr/bin/env python3
"""The repository's canonical name lives in Cargo.toml's `repository` only. The binary reads it at compile time
(CARGO_PKG_REPOSITORY), the action and the release workflow derive it from the running repository; prose cannot,
so this check fails when a document names the project's repository, image or action under another owner or name.
Usage: check-repo-name.py (from the repository root)."""
import glob
import re
import sys

cargo = open("Cargo.toml", encoding="utf-8").read()
m = re.search(r'^repository = "https://github\.com/([\w.-]+)/([\w.-]+)"$', cargo, re.M)
if not m:
    sys.exit("check-repo-name: Cargo.toml has no `repository = \"https://github.com/OWNER/NAME\"`")
owner, name = m.group(1), m.group(2)
canonical = f"{owner}/{name}"
files = ["README.md", "CHANGELOG.md", "SECURITY.md", "action.yml", ".pre-commit-hooks.yaml", "Dockerfile"]
files += glob.glob("docs/**/*.md", recursive=True)
# Any reference to a repository or image called like the project, under any owner.
patterns = [
    re.compile(r"github\.com/([\w.-]+/" + re.escape(name) + r")\b"),
    re.compile(r"ghcr\.io/([\w.-]+/" + re.escape(name) + r")\b"),
    re.compile(r"uses:\s*([\w.-]+/" + re.escape(name) + r")@"),
    re.compile(r"repo:\s*https://github\.com/([\w.-]+/[\w.-]+)"),
]
bad, seen = [], 0
for f in files:
    try:
        text = open(f, encoding="utf-8").read()
    except FileNotFoundError:
        continue
    for n, line in enumerate(text.splitlines(), 1):
        for p in patterns:
            for hit in p.finditer(line):
                seen += 1
                if hit.group(1).lower() != canonical.lower():
                    bad.append(f"{f}:{n}: {hit.group(1)} is not {canonical} (Cargo.toml's repository)")
for b in bad:
    print(b)
if bad:
    sys.exit(1)
print(f"check-repo-name: {seen} references, all {canonical}")
