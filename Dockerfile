# Tollgate container image: a release binary with its web assets embedded.
# Build: docker build -t tollgate .   (used by docker-compose.yml)
FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN rustup target add wasm32-unknown-unknown \
 && cargo install wasm-bindgen-cli --version 0.2.130 \
 && npm ci --no-audit --no-fund \
 && bash -c 'source scripts/lib.sh && build_wasm' \
 && cargo build --release --locked -p tollgate --bin tollgate

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates git && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /var/lib/tollgate tollgate && mkdir -p /var/lib/tollgate && chown tollgate /var/lib/tollgate
COPY --from=build /src/target/release/tollgate /usr/local/bin/tollgate
USER tollgate
WORKDIR /var/lib/tollgate
ENV TOLLGATE__DATA_DIR=/var/lib/tollgate TOLLGATE__SERVER__BIND=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["tollgate"]
CMD ["serve"]
