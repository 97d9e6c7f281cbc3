#!/usr/bin/env python3
"""Writes a minified JSON `kind: List` of Deployments and Services (one line) of about SIZE bytes to stdout.
Usage: tools/gen_minified_list.py [SIZE_BYTES]  (default 2.3 MB), e.g. > /tmp/big/list.json"""
import json, sys

size = int(sys.argv[1]) if len(sys.argv) > 1 else 2_300_000
items, total, i = [], 0, 0
while total < size:
    d = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": f"app{i}", "namespace": f"ns{i % 50}",
         "labels": {"app": f"app{i}", "version": "v1"}},
         "spec": {"selector": {"matchLabels": {"app": f"app{i}"}}, "template": {"metadata": {"labels": {"app": f"app{i}"}},
                  "spec": {"containers": [{"name": "c", "image": "nginx", "ports": [{"containerPort": 8080}]}]}}}}
    s = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"app{i}", "namespace": f"ns{i % 50}"},
         "spec": {"selector": {"app": f"app{i}"}, "ports": [{"port": 80, "targetPort": 8080}]}}
    for o in (d, s):
        items.append(o)
        total += len(json.dumps(o, separators=(",", ":")))
    i += 1
sys.stdout.write(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}, separators=(",", ":")))
