# jwp server image: `jwp serve` with the Scalable extras (Redis, MySQL/MariaDB).
#   docker build -t jwp:latest .
#   docker run -p 9000:9000 jwp:latest                   # Standalone, SQLite in /var/lib/jwp
#   docker run jwp:latest jwp serve --role worker        # Scalable roles: see docs/scalable.md

FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/jwp
COPY pyproject.toml README.md dot.env mcp-settings.toml ./
COPY proto ./proto
COPY jwp ./jwp
RUN /opt/jwp/bin/pip install --no-cache-dir '.[scalable]'

FROM python:3.11-slim AS runtime
RUN useradd --system --create-home --home-dir /var/lib/jwp jwp
COPY --from=build /opt/jwp /opt/jwp
ENV PATH=/opt/jwp/bin:$PATH \
    GRPC_ADDR=0.0.0.0:9000 \
    SQLITE_URL=sqlite:///var/lib/jwp/jobworkerp.sqlite3
USER jwp
WORKDIR /var/lib/jwp
EXPOSE 9000
# Every role serves the gRPC health service on GRPC_ADDR.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s \
    CMD ["python", "-c", "import sys, grpc; from grpc_health.v1 import health_pb2 as h, health_pb2_grpc as g; r = g.HealthStub(grpc.insecure_channel('127.0.0.1:9000')).Check(h.HealthCheckRequest(), timeout=3); sys.exit(r.status != h.HealthCheckResponse.SERVING)"]
CMD ["jwp", "serve", "--role", "all"]
