# syntax=docker/dockerfile:1
# keygate's image: `keygate operator` and `keygate verifier` (see charts/keygate, deploy/).
#   docker build -t <registry>/keygate:<version> .
# Pin the base image by digest in your build (NODE_IMAGE=node:22-bookworm-slim@sha256:…).
ARG NODE_IMAGE=node:22-bookworm-slim

# 1. Compile: every dependency (TypeScript is a dev dependency), then tsc to dist/ from the
# production entry points only (tsconfig.build.json); .dockerignore keeps the development code
# out of the build context, so a production import of it fails here.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json

# 2. Runtime dependencies only: no dev dependencies, no install scripts, no npm cache.
FROM ${NODE_IMAGE} AS runtime-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force

# 3. The image: Node, tini as PID 1 (forwards SIGTERM, reaps zombies), the compiled CLI and its
# runtime dependencies, owned by root and read-only to the non-root user it runs as. Nothing is
# written at run time, so the root filesystem can be mounted read-only.
FROM ${NODE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
# package.json says "type": "module": dist/ is ES modules.
COPY package.json ./
COPY --from=runtime-deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# A numeric user, so that runAsNonRoot can be verified; the chart runs as the same uid.
USER 65532:65532
EXPOSE 8080 9443
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/cli/main.js"]
CMD ["operator"]
