# syntax=docker/dockerfile:1
# clawpulse in a container. Two stages: `build` installs the dependencies, builds the daemon,
# dashboard and Mattermost plugin, packs them and installs that package; the runtime stage is
# Node plus the installed package, running as a non-root user. Both use deploy/docker/build.sh,
# the script CI runs outside Docker (.ci/package-check.sh), so a broken step fails CI first.
#
#   docker build -t clawpulse .
#   docker run -d --name clawpulse -p 9090:9090 -e DASHBOARD_TOKEN=$(openssl rand -hex 24) \
#     -v ~/.openclaw:/openclaw:ro -v clawpulse-data:/var/lib/clawpulse clawpulse
# With the OpenClaw gateway in compose: deploy/docker/docker-compose.yml.
ARG NODE_VERSION=24

FROM node:${NODE_VERSION}-bookworm-slim AS build
# better-sqlite3 compiles its native module when no prebuilt binary can be downloaded
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN sh deploy/docker/build.sh package /pkg \
  && sh deploy/docker/build.sh install /pkg/clawpulse-*.tgz /opt/clawpulse

FROM node:${NODE_VERSION}-bookworm-slim
COPY --from=build /opt/clawpulse /opt/clawpulse
COPY deploy/docker/build.sh /usr/local/bin/clawpulse-docker
# the image's own non-root user `node` (uid 1000, as in OpenClaw's image: the OpenClaw state
# dir it writes is readable to it); clawpulse's store and logs go to the volume
RUN chmod 0755 /usr/local/bin/clawpulse-docker \
  && mkdir -p /var/lib/clawpulse \
  && chown node:node /var/lib/clawpulse
ENV PATH=/opt/clawpulse/bin:$PATH \
  NODE_ENV=production \
  HTTP_HOST=0.0.0.0 \
  HEALTH_PORT=9090 \
  CLAWPULSE_HOME=/var/lib/clawpulse \
  OPENCLAW_STATE_DIR=/openclaw
VOLUME ["/var/lib/clawpulse"]
EXPOSE 9090
USER node
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["clawpulse-docker", "healthcheck"]
# DASHBOARD_TOKEN is required (the dashboard listens on 0.0.0.0): start refuses without it
ENTRYPOINT ["clawpulse-docker", "start"]
