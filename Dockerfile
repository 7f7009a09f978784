# hubscope as a container: `dockerhub serve-mcp` (stdio) by default, any command on demand.
#   docker build -t hubscope .                    # default target: stdio MCP server
#   docker run --rm hubscope tags nginx --limit 3 # any command
#   docker build --target http -t hubscope:http . # MCP over HTTP on :8080, with /health
# Credentials come from the environment at run time (DOCKERHUB_USERNAME/DOCKERHUB_TOKEN),
# never from build arguments or layers.

# -- build: a wheel, with the man page and completions as shared data -------------------------
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY dockerhub_cli ./dockerhub_cli
COPY man ./man
COPY completions ./completions
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /dist .

# -- base: runtime with the wheel installed, non-root ----------------------------------------
FROM python:3.11-slim-bookworm AS base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DOCKERHUB_CACHE_DIR=/cache \
    DOCKERHUB_NO_SPINNER=1
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/app app \
    && mkdir /cache \
    && chown app:app /cache
COPY --from=build /dist/ /tmp/dist/
RUN pip install --no-cache-dir /tmp/dist/*.whl && rm -rf /tmp/dist
USER 10001:10001
WORKDIR /home/app
VOLUME ["/cache"]
ENTRYPOINT ["dockerhub"]

# -- http: MCP over streamable HTTP on port 8080 ----------------------------------------------
# Beyond loopback serve-mcp needs a bearer token: run with -e DOCKERHUB_MCP_AUTH_TOKEN=...
# (the health check below calls /health on loopback, which needs none).
FROM base AS http
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=4)"]
CMD ["serve-mcp", "--transport", "http", "--host", "0.0.0.0", "--port", "8080"]

# -- stdio (default, last stage): MCP over stdin/stdout, for clients that spawn a process -----
FROM base AS stdio
CMD ["serve-mcp"]
