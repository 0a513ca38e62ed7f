# syntax=docker/dockerfile:1
# Gatehouse: built in one stage (dev dependencies, a C++ toolchain for better-sqlite3, tsc),
# run from a slim stage as the unprivileged `node` user with production dependencies only.

FROM node:20-bookworm-slim AS build
# npm 11: the lockfile's `allowScripts` (only better-sqlite3 may build) is an npm 11 feature.
RUN npm install --global npm@11.19.1 \
 && apt-get update \
 && apt-get install --yes --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bench ./bench
COPY test ./test
# `npm run build` also builds the operator console with Vite (a dev dependency, so before the prune)
# into dist/console, which the runtime stage copies with the rest of dist/ and the server serves at /.
COPY console ./console
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=4000 \
    GATEHOUSE_DATA_DIR=/data
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json /app/package-lock.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
# A named volume mounted here starts with this ownership, so the non-root user can write to it.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 4000
# The build ran in the first stage; the runtime image has no TypeScript, so start the compiled server
# (with npm start's young-generation size: fewer GC pauses per request, see README Benchmarks → API).
CMD ["node", "--max-semi-space-size=32", "dist/src/server/main.js"]
