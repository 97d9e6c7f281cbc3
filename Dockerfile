# syntax=docker/dockerfile:1
# The container image: the mtls-review CLI with git, kustomize and helm, multi-arch (linux/amd64, linux/arm64,
# each built natively by .github/workflows/release.yml), running as a non-root user.
#   docker build -t mtls-review .
#   docker run --rm --user "$(id -u):$(id -g)" -v "$PWD:/work" --entrypoint mtls-review mtls-review check .
# The entrypoint stays `mtls-review github`, as the Action runs it; the CLI needs `--entrypoint mtls-review`.
#
# .ci/run (scripts/docker-build-check.py) replays the build stage on the host from a clean copy of exactly the files
# its COPY lines name, so keep that stage to WORKDIR, ENV, COPY and RUN.
#
# Base images are pinned by digest (the multi-arch index digests as found in public Dockerfiles; see CHANGELOG.md
# for how they were chosen). Bump them together with the tag.

FROM rust:1.95-slim-bookworm@sha256:d7482085ff5b415f84dba5647ae71606650bdef00db7aeb69f4b3d170c3e4082 AS build
WORKDIR /src
ENV CARGO_TERM_COLOR=never
# The manifest declares the `review` benchmark, so cargo needs benches/ to load it.
COPY Cargo.toml Cargo.lock ./
COPY benches ./benches
COPY src ./src
# The SARIF report embeds the rule pages (include_str!).
COPY docs/rules ./docs/rules
RUN --mount=type=cache,target=/usr/local/cargo/registry cargo build --release --locked --bin mtls-review

FROM debian:bookworm-slim@sha256:4b50eb66f977b4062683ff434ef18ac191da862dbe966961bc11990cf5791a8d AS tools
ARG TARGETARCH
ARG KUSTOMIZE_VERSION=5.5.0
# SHA-256 of kustomize_v5.5.0_linux_{amd64,arm64}.tar.gz.
ARG KUSTOMIZE_SHA256_AMD64=6703a3a70a0c47cf0b37694030b54f1175a9dfeb17b3818b623ed58b9dbc2a77
ARG KUSTOMIZE_SHA256_ARM64=b4170d1acb8cfacace9f72884bef957ff56efdcd4813b66e7604aabc8b57e93d
ARG HELM_VERSION=3.17.3
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*
RUN set -eu; \
    case "${TARGETARCH}" in \
      amd64) kustomize_sha="${KUSTOMIZE_SHA256_AMD64}" ;; \
      arm64) kustomize_sha="${KUSTOMIZE_SHA256_ARM64}" ;; \
      *) echo "unsupported architecture ${TARGETARCH}" >&2; exit 1 ;; \
    esac; \
    curl -fsSLo /tmp/kustomize.tar.gz \
      "https://github.com/kubernetes-sigs/kustomize/releases/download/kustomize%2Fv${KUSTOMIZE_VERSION}/kustomize_v${KUSTOMIZE_VERSION}_linux_${TARGETARCH}.tar.gz"; \
    echo "${kustomize_sha}  /tmp/kustomize.tar.gz" | sha256sum -c -; \
    tar -xzf /tmp/kustomize.tar.gz -C /usr/local/bin kustomize; \
    # helm: checked against the .sha256sum that helm publishes beside each archive.
    curl -fsSLo /tmp/helm.tar.gz "https://get.helm.sh/helm-v${HELM_VERSION}-linux-${TARGETARCH}.tar.gz"; \
    curl -fsSLo /tmp/helm.sha256 "https://get.helm.sh/helm-v${HELM_VERSION}-linux-${TARGETARCH}.tar.gz.sha256sum"; \
    echo "$(cut -d' ' -f1 /tmp/helm.sha256)  /tmp/helm.tar.gz" | sha256sum -c -; \
    tar -xzf /tmp/helm.tar.gz -C /tmp "linux-${TARGETARCH}/helm"; \
    mv "/tmp/linux-${TARGETARCH}/helm" /usr/local/bin/helm; \
    /usr/local/bin/kustomize version; /usr/local/bin/helm version --short; \
    rm -rf /tmp/*

FROM debian:bookworm-slim@sha256:4b50eb66f977b4062683ff434ef18ac191da862dbe966961bc11990cf5791a8d
# git fetches pull request history when a checkout is shallow; CA certificates for the GitHub API. Mounted
# repositories belong to another user: mark every directory safe for git and libgit2.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && git config --system --add safe.directory '*' \
 && useradd --uid 10001 --user-group --create-home --home-dir /home/mtls-review mtls-review
COPY --from=tools /usr/local/bin/kustomize /usr/local/bin/helm /usr/local/bin/
COPY --from=build /src/target/release/mtls-review /usr/local/bin/mtls-review
USER 10001:10001
WORKDIR /work
ENTRYPOINT ["mtls-review", "github"]
