# syntax=docker/dockerfile:1
# Multi-stage build. Base images are pinned by digest; refresh them
# deliberately (docs/deployment.md says how), never implicitly.

FROM rust:1.91-bookworm@sha256:c1e5f19e773b7878c3f7a805dd00a495e747acbdc76fb2337a4ebf0418896b33 AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY backend backend
COPY frontend frontend
COPY migrations migrations
COPY openapi openapi
COPY tests tests
RUN cargo build --release --locked --bin cairn

FROM debian:bookworm-20260406-slim@sha256:4724b8cc51e33e398f0e2e15e18d5ec2851ff0c2280647e1310bc1642182655d
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin cairn
COPY --from=build /src/target/release/cairn /usr/local/bin/cairn
USER 10001:10001
ENV CAIRN_LISTEN=0.0.0.0:8080 \
    CAIRN_LOG_FORMAT=json
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/cairn"]
CMD ["serve"]
