# The Podwall server, running compiled JavaScript.
#   docker build -t podwall/server:0.1.0 .
# Default command: the bundled example cluster, kept in the data dir volume.
# In Kubernetes (deploy/) it runs `serve --kubernetes` instead.

# Compiles server/ and client/ to dist/ with the dev dependencies (TypeScript).
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY server ./server
COPY client ./client
RUN npm run build

# Production dependencies only, installed apart so that nothing from the
# compiler's node_modules reaches the image.
FROM node:22-bookworm-slim AS deps
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:22-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# package.json says the JavaScript in dist/ is ES modules.
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The web page (/ui/): its HTML and stylesheet beside its compiled script,
# which the server bundles with esbuild (a production dependency) when the page is first asked for.
COPY client/ui/index.html client/ui/style.css ./dist/client/ui/
COPY examples ./examples
# The model's embedded store: mount a volume here so that it outlives the container.
RUN mkdir -p /var/lib/podwall && chown 1000:1000 /var/lib/podwall
VOLUME ["/var/lib/podwall"]
EXPOSE 8080 50051
# The image's `node` user, by number: Kubernetes can verify runAsNonRoot only
# for a numeric user, and deploy/30-deployment.yaml runs as the same one.
USER 1000:1000
ENTRYPOINT ["node", "dist/client/cli/main.js"]
CMD ["serve", "--listen", ":8080", "--grpc-listen", ":50051", "--data-dir", "/var/lib/podwall", "--manifests", "examples/cluster"]
