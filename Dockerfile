# The Podwall server. Build: docker build -t podwall .
FROM node:22-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY bin ./bin
COPY client ./client
COPY server ./server
COPY examples ./examples
COPY tsconfig.json ./
# The model's embedded store: mount a volume here so that it outlives the container.
RUN mkdir -p /var/lib/podwall && chown node:node /var/lib/podwall
VOLUME ["/var/lib/podwall"]
EXPOSE 8080 50051
USER node
ENTRYPOINT ["node", "bin/podwall.js"]
CMD ["serve", "--listen", ":8080", "--grpc-listen", ":50051", "--data-dir", "/var/lib/podwall", "--manifests", "examples/cluster"]
