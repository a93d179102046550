# Crier worker image. Postgres (platform + ledger) and Redis are external; pass their URLs
# and the config through the environment:
#   docker run -e CRIER_CONFIG=/config/crier.yaml -e PLATFORM_DATABASE_URL=... -e CRIER_DATABASE_URL=... \
#              -e REDIS_URL=... -e SMTP_URL=... -e CRIER_LINK_SECRET=... -v $PWD/config:/config:ro crier
# compose.yaml runs it with a Postgres and a Redis of its own: `docker compose up`.
#
# Node 24 LTS (maintenance until 2028-04-30; Node 20 reached its end of life in 2026-04) on
# Debian 13 "trixie", the current stable release. Another line: --build-arg NODE=26.
ARG NODE=24

# Build: every dependency, then `npm run build` into dist/ (src/ and jobs/ bundled by esbuild,
# with the templates, catalogues, migrations and SQL they read beside them).
FROM node:${NODE}-trixie-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# npm ci runs `prepare` (bin/build.js), which builds nothing while src/ is not here yet.
COPY bin ./bin
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY jobs ./jobs
COPY email-templates ./email-templates
RUN npm run build

# The worker: production dependencies (those dist/ loads by name: the build checks that each
# is one), the command and dist/; no TypeScript source, so bin/crier.js always runs the build.
# Everything under /app belongs to root and is read-only to the worker, which runs as `node`.
FROM node:${NODE}-trixie-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY bin ./bin
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY config ./config

# The outbox transport writes into ./outbox, `crier preview` into ./preview: the only places
# the worker writes (mount a volume on /app/outbox to keep the e-mails).
RUN mkdir -p /app/outbox /app/preview && chown node:node /app/outbox /app/preview
USER node

# The HTTP server (health, metrics, one-click unsubscribe, /admin) of a config with `http:`.
# In a container it listens on every interface (publish the port to reach it from outside):
# the shipped config reads `host: ${CRIER_HTTP_HOST:-127.0.0.1}`. The HEALTHCHECK asks
# 127.0.0.1:$CRIER_HTTP_PORT, the shipped config's port 8025; with a config of your own, set
# CRIER_HTTP_PORT to its http.port (or write `port: ${CRIER_HTTP_PORT}` in it). Put a
# TLS-terminating proxy in front (http.publicUrl is the address the public reaches).
ENV CRIER_HTTP_HOST=0.0.0.0 CRIER_HTTP_PORT=8025
EXPOSE 8025

# /healthz answers while the process does (not Postgres or Redis: an outage does not get the
# worker restarted; /readyz tells those). Node's fetch: the image has no curl. The start period
# covers the migrations, the demo tenant's creation on first use and the first tick, which
# come before the server listens.
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.CRIER_HTTP_PORT || 8025) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# SIGTERM stops the tick, lets active deliveries finish (bounded) and exits.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "bin/crier.js"]
CMD ["start"]
