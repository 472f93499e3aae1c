# One Dockerfile, one target per service (gateway, shortener, timeline, notifier; the timeline
# image also runs the fan-out worker). The services are one pnpm workspace over a shared
# package, so one build stage installs and compiles it once and every image takes its own tree
# from it (infra/docker/assemble.sh): compiled dist/ and production dependencies only.
#   docker build --target shortener -t shortfeed/shortener .
# (BuildKit; no `# syntax=` line, so the daemon's built-in frontend is enough.)
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
ENV CI=true PNPM_STORE=/pnpm/store
# pnpm at the version package.json's packageManager pins.
RUN corepack enable
WORKDIR /src
# Dependencies first, from the lockfile alone: this layer stays cached until the lockfile changes.
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
COPY patches/ patches/
RUN --mount=type=cache,id=shortfeed-pnpm,target=/pnpm/store pnpm fetch --store-dir "$PNPM_STORE"
COPY . .
RUN --mount=type=cache,id=shortfeed-pnpm,target=/pnpm/store \
    pnpm install --offline --frozen-lockfile --ignore-scripts --store-dir "$PNPM_STORE" \
 && pnpm exec tsc -b services/gateway services/shortener services/timeline services/notifier \
 && pnpm --filter @shortfeed/web build \
 && for service in gateway shortener timeline notifier; do sh infra/docker/assemble.sh "$service" || exit 1; done

FROM ${NODE_IMAGE} AS runtime
# Production mode refuses the development secrets; compose's demo sets NODE_ENV itself.
ENV NODE_ENV=production HOST=0.0.0.0 \
    NODE_OPTIONS="--conditions=shortfeed-dist --max-semi-space-size=2 --max-old-space-size=128 --import=@shortfeed/common/register-telemetry"
COPY infra/docker/healthcheck.mjs /usr/local/lib/shortfeed/healthcheck.mjs
HEALTHCHECK --interval=5s --timeout=3s --start-period=60s --retries=3 \
  CMD ["/bin/sh", "-c", "NODE_OPTIONS= exec node /usr/local/lib/shortfeed/healthcheck.mjs"]
# The code belongs to root and is read-only to the process, which runs as the image's node user.
USER node
# Node is PID 1 and handles SIGTERM itself (close-with-grace drains, commits, flushes, closes).
STOPSIGNAL SIGTERM

FROM runtime AS gateway
COPY --from=build /out/gateway /app
WORKDIR /app/services/gateway
ENV PORT=8080 SERVICE_NAME=gateway
EXPOSE 8080
CMD ["node", "dist/src/server.js"]

# The shortener API by default; the click aggregator is the same image with
# `command: ["node", "dist/src/clicks-server.js"]` and PORT=8085.
FROM runtime AS shortener
COPY --from=build /out/shortener /app
WORKDIR /app/services/shortener
ENV PORT=8081 SERVICE_NAME=shortener
EXPOSE 8081 8085
CMD ["node", "dist/src/server.js"]

FROM runtime AS notifier
COPY --from=build /out/notifier /app
WORKDIR /app/services/notifier
ENV PORT=8083 SERVICE_NAME=notifier
EXPOSE 8083
CMD ["node", "dist/src/server.js"]

# The timeline API by default; the fan-out worker is the same image with
# `command: ["node", "dist/src/fanout-server.js"]` and PORT=8084.
FROM runtime AS timeline
COPY --from=build /out/timeline /app
WORKDIR /app/services/timeline
ENV PORT=8082 SERVICE_NAME=timeline
EXPOSE 8082 8084
CMD ["node", "dist/src/server.js"]
