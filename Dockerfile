# Tollgate container image: a release binary with its web assets embedded.
# Build: docker build -t tollgate .   (used by docker-compose.yml)
FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The README's command: the wasm tools, the browser bundle, the release binary with the bundle
# embedded, and a check that it embeds the bundle just built.
RUN ./scripts/release

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
