# The action's image: `mtls-review github` with git and CA certificates.
# Published by .github/workflows/release.yml; action.yml runs the published image, so workflows never compile it.
# Build it yourself with: docker build -t mtls-review .

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# zlib linked statically (libz-sys `static`); libgit2 is vendored; TLS is rustls: the binary needs only glibc.
ENV LIBZ_SYS_STATIC=1 CARGO_TERM_COLOR=never

# Dependencies in their own layer: rebuilt only when Cargo.toml or Cargo.lock change.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs \
 && cargo build --release --locked \
 && rm -rf src target/release/.fingerprint/mtls-review-* target/release/deps/mtls_review-* \
      target/release/deps/libmtls_review-* target/release/mtls-review*

COPY src ./src
RUN cargo build --release --locked \
 && strip target/release/mtls-review

FROM debian:bookworm-slim
# git fetches the pull request's history when the checkout is shallow; CA certificates for the GitHub API.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/mtls-review /usr/local/bin/mtls-review
ENTRYPOINT ["mtls-review", "github"]
