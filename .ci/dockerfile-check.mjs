#!/usr/bin/env node
// Docker cannot run on the CI machines: this checks that the Dockerfile and the compose example
// keep their promises, and that the image's build and start steps are the ones CI runs
// (deploy/docker/build.sh package|install|start|healthcheck, run by .ci/package-check.sh).
import { readFileSync } from 'node:fs';

const problems = [];
const text = (f) => readFileSync(f, 'utf8');
const df = text('Dockerfile');
const lines = df
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const stages = lines.filter((l) => /^FROM /i.test(l));
if (stages.length < 2) problems.push('Dockerfile: not multi-stage (build stage + runtime stage)');
if (!/ AS build$/i.test(stages[0] ?? '')) problems.push('Dockerfile: the first stage should be named build');
const final = lines.slice(lines.lastIndexOf(stages.at(-1)));
const has = (re, what, where = final) => {
  if (!where.some((l) => re.test(l))) problems.push(`Dockerfile: ${what}`);
};
has(/^RUN .*sh deploy\/docker\/build\.sh package /, 'the build stage RUNs build.sh package', lines);
has(/^RUN .*sh deploy\/docker\/build\.sh install /, 'the build stage RUNs build.sh install', lines);
has(/^COPY --from=build /, 'the runtime stage copies the install from the build stage');
has(/^COPY deploy\/docker\/build\.sh \/usr\/local\/bin\/clawpulse-docker$/, 'build.sh is the image’s clawpulse-docker');
has(/^ENTRYPOINT \["clawpulse-docker", "start"\]$/, 'ENTRYPOINT is clawpulse-docker start');
has(/^HEALTHCHECK .*CMD \["clawpulse-docker", "healthcheck"\]$/, 'HEALTHCHECK runs clawpulse-docker healthcheck (/health)');
has(/^ENV .*HTTP_HOST=0\.0\.0\.0/, 'ENV HTTP_HOST=0.0.0.0');
has(/^ENV .*CLAWPULSE_HOME=\/var\/lib\/clawpulse/, 'ENV CLAWPULSE_HOME=/var/lib/clawpulse');
has(/^ENV .*OPENCLAW_STATE_DIR=\/openclaw/, 'ENV OPENCLAW_STATE_DIR=/openclaw');
has(/^VOLUME \["\/var\/lib\/clawpulse"\]$/, 'clawpulse’s home is a VOLUME');
const user = final.filter((l) => /^USER /i.test(l)).at(-1);
if (!user || /^USER (root|0)(:|$)/i.test(user)) problems.push('Dockerfile: the runtime stage runs as root');

const ignore = text('.dockerignore').split('\n');
for (const p of ['node_modules', 'dist', '.git'])
  if (!ignore.includes(p)) problems.push(`.dockerignore: ${p} would be sent into the build`);

const compose = text('deploy/docker/docker-compose.yml');
const need = [
  [/network_mode: "service:openclaw-gateway"/, 'clawpulse shares the gateway’s network (loopback)'],
  [/:\/openclaw:ro$/m, 'the OpenClaw state dir is mounted read-only'],
  [/- clawpulse-data:\/var\/lib\/clawpulse$/m, 'clawpulse’s home is a named volume'],
  [/DASHBOARD_TOKEN: \$\{CLAWPULSE_DASHBOARD_TOKEN:\?/, 'DASHBOARD_TOKEN is required'],
  [/^ {2}openclaw-gateway:$/m, 'an OpenClaw gateway service'],
];
for (const [re, what] of need) if (!re.test(compose)) problems.push(`docker-compose.yml: ${what}`);
if (/\t/.test(compose)) problems.push('docker-compose.yml: tabs are not YAML indentation');

if (problems.length) {
  console.error(`Docker files:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`Dockerfile (${stages.length} stages, ${user}) and docker-compose.yml keep their promises; their steps are build.sh's`);
