# Crier worker image. Postgres (platform + ledger) and Redis are external; pass their URLs
# and the config through the environment:
#   docker run -e CRIER_CONFIG=/config/crier.yaml -e PLATFORM_DATABASE_URL=... -e CRIER_DATABASE_URL=... \
#              -e REDIS_URL=... -e SMTP_URL=... -e CRIER_LINK_SECRET=... -v $PWD/config:/config:ro crier

# Build: every dependency, then `npm run build` into dist/ (src/ and jobs/ bundled by esbuild,
# with the templates, catalogues, migrations and SQL they read beside them).
FROM node:20-bookworm-slim AS build
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
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY bin ./bin
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY config ./config

# The outbox transport writes here; mount a volume to keep it.
RUN mkdir -p /app/outbox && chown node:node /app/outbox
USER node

# `http:` (one-click unsubscribe) listens here; set http.host to 0.0.0.0 in the container and
# put a TLS-terminating proxy in front (http.publicUrl is the address the public reaches).
EXPOSE 8080

# SIGTERM stops the tick, lets active deliveries finish (bounded) and exits.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "bin/crier.js"]
CMD ["start"]
