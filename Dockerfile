# Vigil as one image; `vigil run --target=...` chooses what runs (default: all services).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# npm ci installs exactly the lock file; chDB's libraries for other platforms are optional entries there that npm skips.
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY services services
COPY test/bench test/bench
COPY test/support test/support
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
WORKDIR /app
# Inside a container /metrics must be reachable from other containers; publish it on loopback only.
ENV NODE_ENV=production VIGIL_HTTP_HOST=0.0.0.0 VIGIL_HTTP_PORT=9464
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY schemas schemas
# The default VIGIL_MODELS_DIR; mount another folder and point the variable at it for your own models.
COPY infra/models infra/models
COPY infra/clickhouse infra/clickhouse
# Embedded ClickHouse (no CLICKHOUSE_URL) keeps its files in ./data.
RUN mkdir data && chown node:node data
USER node
EXPOSE 9464
ENTRYPOINT ["node", "dist/services/cli/main.js"]
CMD ["run", "--target=all"]
