#!/usr/bin/env bash
# Builds the go-yaml differential tool from Debian's packages (GOPATH mode, nothing downloaded).
set -euo pipefail
cd "$(dirname "$0")"
out="${1:-../../target/goyaml}"
GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="${GOCACHE:-/tmp/goyaml-cache}" go build -o "$out" main.go
