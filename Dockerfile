# One multi-target Dockerfile for every service of the monorepo:
#   docker build --target ledger      -t entitlement-ledger/ledger .
#   docker build --target projector   -t entitlement-ledger/projector .
#   docker build --target enforcement -t entitlement-ledger/enforcement .
#   docker build --target metering    -t entitlement-ledger/metering .
#   docker build --target audit       -t entitlement-ledger/audit .
#   docker build --target embedded    -t entitlement-ledger/embedded .
# docker-compose.yml builds them all.

FROM node:24-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles from source when no prebuilt binary can be downloaded.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN node tools/build/build.mjs --clean --quiet && npm prune --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim AS runtime
WORKDIR /app
# kafkajs 2.2.4 schedules a negative timeout once per connection, which Node 24 reports as a
# TimeoutNegativeWarning (tulios/kafkajs#1751, unfixed upstream; Node clamps it to 1 ms as before).
ENV NODE_ENV=production NODE_OPTIONS=--disable-warning=TimeoutNegativeWarning
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/catalog ./catalog
RUN mkdir -p /var/lib/ledger/keys /var/lib/ledger/enforcement && chown -R node:node /var/lib/ledger
USER node
ENV DATA_DIR=/var/lib/ledger
# Every service answers /health with 200 when up (503 when degraded or down).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"

FROM runtime AS ledger
ENV PORT=8080
EXPOSE 8080
CMD ["node", "dist/apps/ledger/main.js"]

FROM runtime AS projector
ENV PORT=8081
EXPOSE 8081
CMD ["node", "dist/apps/projector/main.js"]

FROM runtime AS enforcement
ENV PORT=8082 ENFORCEMENT_DATA_DIR=/var/lib/ledger/enforcement
EXPOSE 8082
CMD ["node", "dist/apps/enforcement/main.js"]

FROM runtime AS metering
ENV PORT=8083
EXPOSE 8083
CMD ["node", "dist/apps/metering/main.js"]

FROM runtime AS audit
ENV PORT=8084 DATA_DIR=/var/lib/ledger/audit
EXPOSE 8084
CMD ["node", "dist/apps/audit/main.js"]

FROM runtime AS embedded
ENV PORT=8080
EXPOSE 8080
CMD ["node", "dist/apps/embedded/src/main.js"]
