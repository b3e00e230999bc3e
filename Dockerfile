# The single hcp binary in a small image (issue 18 §7). Build: docker build -t hcp:0.1 .
# Run:   docker run -p 8080:8080 -v hcp-data:/var/lib/hcp hcp:0.1
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p hcp && strip target/release/hcp

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/hcp --create-home hcp
COPY --from=build /src/target/release/hcp /usr/local/bin/hcp
USER hcp
WORKDIR /var/lib/hcp
ENV HCP_DATABASE_URL=sqlite:///var/lib/hcp/hcp.db \
    HCP_LISTEN=0.0.0.0:8080
EXPOSE 8080
VOLUME ["/var/lib/hcp"]
# Health: GET /healthz (200 when the database answers) from the orchestrator or the load balancer.
ENTRYPOINT ["/usr/local/bin/hcp"]
CMD ["serve"]
