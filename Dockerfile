# syntax=docker/dockerfile:1
# The finetune-flow image: the worker (default command) and the HTTP API (node dist/api/main.js).
# Stage `build` compiles TypeScript and bundles the workflows once (npm run bundle); stage `runtime`
# holds production dependencies and dist/ only, runs as the unprivileged `node` user, and loads the
# prebuilt bundle instead of running webpack at every start.
# Debian (glibc), not Alpine: @temporalio/core-bridge ships prebuilt native binaries for glibc only.
ARG NODE_VERSION=24

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# The dashboard's sources: the build bundles them into dist/ui/ (ui/build.mjs), which the API serves at /ui.
COPY ui ./ui
# The build context has no .git: `ftflow --version` reports the commit given here (unknown if none).
ARG FTFLOW_BUILD_COMMIT=""
# build:product, not build: the stand-ins (devstack/) are not in the image.
RUN FTFLOW_BUILD_COMMIT="$FTFLOW_BUILD_COMMIT" npm run build:product \
 && npm run bundle \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
# jemalloc for the worker's native memory (src/config/workerTuning.ts, workerProcessEnv): Debian's libjemalloc2 (the
# version make setup pins), linked at one path whatever the architecture and preloaded into the image's processes.
# With glibc's malloc a worker keeps the native memory 1,000 finished runs freed (bench/README.md, section 7).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libjemalloc2=5.3.0-1 \
 && rm -rf /var/lib/apt/lists/* \
 && ln -s "$(dpkg -L libjemalloc2 | grep '/libjemalloc\.so\.2$')" /usr/local/lib/libjemalloc.so.2
# MALLOC_ARENA_MAX, MALLOC_CONF and NODE_OPTIONS: src/config/workerTuning.ts, WORKER_PROCESS_ENV (read by the
# allocator and by Node before the service's code runs; the heap limit keeps V8 from growing a heap to four times
# what it uses, the semi-space size its young generations under a long staging).
ENV NODE_ENV=production \
    LD_PRELOAD=/usr/local/lib/libjemalloc.so.2 \
    MALLOC_ARENA_MAX=2 \
    MALLOC_CONF=background_thread:true \
    NODE_OPTIONS="--max-old-space-size=1536 --max-semi-space-size=8" \
    FTFLOW_WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js \
    FTFLOW_LOG_FORMAT=json \
    FTFLOW_METRICS_ADDRESS=0.0.0.0:9464
WORKDIR /app
# Owned by root and read-only for the service user: the process cannot rewrite its own code.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
# 9464: Prometheus /metrics (worker); 8080: the HTTP API.
EXPOSE 9464 8080
# SIGTERM starts the worker's graceful shutdown (src/worker.ts, SHUTDOWN_GRACE_SECONDS).
STOPSIGNAL SIGTERM
CMD ["node", "dist/worker.js"]
