# syntax=docker/dockerfile:1
# One image for every Plexus component: `plexus backend|balancer|server` (docs/deploy.md).
# Stages: deps (all dependencies) → build (the browser demo) → prod-deps (dev dependencies pruned) →
# runtime (Node 24, non-root, state only in the /data volume).

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
# Manifests first, so the install layer is reused until a dependency changes.
COPY package.json package-lock.json ./
COPY packages/protocol/package.json packages/protocol/
COPY packages/kit/package.json packages/kit/
COPY packages/backend/package.json packages/backend/
COPY packages/balancer/package.json packages/balancer/
COPY packages/server/package.json packages/server/
COPY packages/client/package.json packages/client/
COPY packages/web/package.json packages/web/
COPY packages/testkit/package.json packages/testkit/
COPY packages/bench/package.json packages/bench/
COPY packages/bots/package.json packages/bots/
COPY packages/cli/package.json packages/cli/
# No install scripts: the image's own Node runs everything (the `node` devDependency is not needed).
RUN npm ci --ignore-scripts --no-audit --no-fund

FROM deps AS build
COPY packages ./packages
# The browser demo the balancer serves at / (PLEXUS_WEB_ROOT).
RUN node packages/web/build.ts

# From the built tree, so nested workspace node_modules are pruned too, and the demo is kept.
FROM build AS prod-deps
RUN npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PLEXUS_DATA_DIR=/data \
    PLEXUS_BACKEND_HOST=0.0.0.0 \
    PLEXUS_LB_HOST=0.0.0.0 \
    PLEXUS_DS_HOST=0.0.0.0 \
    PLEXUS_WEB_ROOT=/app/packages/web/dist
WORKDIR /app
COPY --from=prod-deps /app/package.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=prod-deps /app/packages ./packages
# The only writable place: SQLite and any other state (PLEXUS_DATA_DIR). Owned by the non-root user.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node
# Backend 8081, balancer 8080 (HTTP, control channel), dedicated server 8100 (HTTP + client /ws).
EXPOSE 8080 8081 8100
# Exec form: Node is PID 1 and receives SIGTERM itself, which starts the graceful drain
# (docs/operations.md); no shell in between to swallow it.
ENTRYPOINT ["node", "packages/cli/src/main.ts"]
CMD ["backend"]
