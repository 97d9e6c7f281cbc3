#!/usr/bin/env python3
"""Replays the Dockerfile's build stage on this machine, from a clean copy of exactly the files its COPY lines name,
so that a manifest or file-layout change that breaks the image breaks CI (docker itself is not available here).

Usage: docker-build-check.py [--dockerfile Dockerfile] [--stage build] [--target-dir DIR]

- the stage may only use FROM, WORKDIR, ENV, ARG, COPY (from the context) and RUN; anything else is an error, so the
  check cannot silently skip what it does not understand;
- every COPY source must exist and must be let through by .dockerignore (which may use only `*`, `!path` and
  comments here);
- RUN commands run verbatim with `sh -c` in the copy (`--mount` flags dropped: cache mounts only speed up);
  CARGO_TARGET_DIR is set to --target-dir when given, so the dependencies compiled by `cargo build --release`
  before are reused;
- the final stage's `COPY --from=<stage> PATH` sources must exist after the build.
"""
import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile


def fail(msg):
    sys.exit(f"docker-build-check: {msg}")


def instructions(path):
    """(line number, INSTRUCTION, rest) with continuations joined and comment lines dropped, as docker does."""
    out, buf, start = [], "", 0
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if line.strip().startswith("#") or (not buf and not line.strip()):
                continue
            if not buf:
                start = n
            if line.endswith("\\"):
                buf += line[:-1] + " "
                continue
            buf += line
            word, _, rest = buf.strip().partition(" ")
            out.append((start, word.upper(), rest.strip()))
            buf = ""
    if buf:
        fail(f"{path}:{start}: unterminated continuation")
    return out


def dockerignore_allows(path, rules):
    allowed = True
    for rule in rules:
        neg = rule.startswith("!")
        pat = rule[1:] if neg else rule
        pat = pat.strip("/")
        if pat == "*":
            hit = True
        elif "*" in pat or "?" in pat or "[" in pat:
            fail(f".dockerignore pattern {rule!r} is beyond what this check understands")
        else:
            hit = path == pat or path.startswith(pat + "/")
        if hit:
            allowed = neg
    return allowed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dockerfile", default="Dockerfile")
    ap.add_argument("--stage", default="build")
    ap.add_argument("--target-dir")
    args = ap.parse_args()
    context = os.path.dirname(os.path.abspath(args.dockerfile))
    rules = []
    ignore = os.path.join(context, ".dockerignore")
    if os.path.exists(ignore):
        with open(ignore, encoding="utf-8") as f:
            rules = [l.strip() for l in f if l.strip() and not l.strip().startswith("#")]

    stages, current = {}, None
    for n, word, rest in instructions(args.dockerfile):
        if word == "FROM":
            parts = rest.split()
            name = parts[-1] if len(parts) >= 3 and parts[-2].upper() == "AS" else f"#{len(stages)}"
            current = stages.setdefault(name, [])
            continue
        if current is None:
            if word == "ARG":
                continue
            fail(f"{args.dockerfile}:{n}: {word} before FROM")
        current.append((n, word, rest))
    if args.stage not in stages:
        fail(f"no stage named {args.stage}")

    work = tempfile.mkdtemp(prefix="docker-build-check.")
    root = os.path.join(work, "root")
    workdir = "/"
    env = dict(os.environ)
    if args.target_dir:
        env["CARGO_TARGET_DIR"] = os.path.abspath(args.target_dir)

    def host(p):
        p = p if p.startswith("/") else os.path.join(workdir, p)
        return os.path.join(root, os.path.normpath(p).lstrip("/"))

    copied = []
    try:
        for n, word, rest in stages[args.stage]:
            where = f"{args.dockerfile}:{n}"
            if word == "WORKDIR":
                workdir = rest if rest.startswith("/") else os.path.join(workdir, rest)
                os.makedirs(host(workdir), exist_ok=True)
            elif word == "ENV":
                for tok in shlex.split(rest):
                    k, eq, v = tok.partition("=")
                    if not eq:
                        fail(f"{where}: ENV without '=' is not supported")
                    env[k] = v
            elif word == "ARG":
                k, eq, v = rest.partition("=")
                if eq:
                    env.setdefault(k, v)
            elif word == "COPY":
                toks = shlex.split(rest)
                if any(t.startswith("--from") for t in toks):
                    fail(f"{where}: COPY --from in the build stage is not replayed")
                toks = [t for t in toks if not t.startswith("--")]
                *srcs, dest = toks
                for src in srcs:
                    rel = os.path.normpath(src).strip("/")
                    if not os.path.exists(os.path.join(context, rel)):
                        fail(f"{where}: COPY source {src} does not exist")
                    if not dockerignore_allows(rel, rules):
                        fail(f"{where}: COPY source {src} is excluded by .dockerignore")
                    s = os.path.join(context, rel)
                    to_dir = dest.endswith("/") or len(srcs) > 1 or os.path.isdir(s)
                    d = host(dest)
                    if os.path.isdir(s):
                        shutil.copytree(s, d, dirs_exist_ok=True)
                    else:
                        if to_dir:
                            os.makedirs(d, exist_ok=True)
                            d = os.path.join(d, os.path.basename(rel))
                        os.makedirs(os.path.dirname(d), exist_ok=True)
                        shutil.copy2(s, d)
                    copied.append(rel)
            elif word == "RUN":
                cmd = rest
                while True:
                    m = re.match(r"--\S+\s+", cmd)
                    if not m:
                        break
                    cmd = cmd[m.end():]
                print(f"docker-build-check: {where}: RUN {cmd}", flush=True)
                r = subprocess.run(["sh", "-c", cmd], cwd=host(workdir), env=env)
                if r.returncode != 0:
                    fail(f"{where}: RUN exited {r.returncode} on a copy of {', '.join(copied)}")
            else:
                fail(f"{where}: {word} in the build stage is not replayed by this check")

        outputs = 0
        for name, body in stages.items():
            for n, word, rest in body:
                toks = shlex.split(rest)
                if word == "COPY" and f"--from={args.stage}" in toks:
                    for src in [t for t in toks if not t.startswith("--")][:-1]:
                        p = host(src)
                        if args.target_dir:
                            tgt = os.path.normpath(os.path.join(workdir, "target"))
                            if os.path.normpath(src).startswith(tgt + "/"):
                                p = os.path.join(env["CARGO_TARGET_DIR"], os.path.relpath(src, tgt))
                        if not os.path.exists(p):
                            fail(f"{args.dockerfile}:{n}: {src} was not produced by stage {args.stage}")
                        outputs += 1
        if outputs == 0:
            fail(f"no stage copies anything from {args.stage}")
        print(f"docker-build-check: stage {args.stage} built from {', '.join(copied)}; {outputs} output(s) present")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
