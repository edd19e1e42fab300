#!/usr/bin/env node
// A strict check of clawpulse's systemd units, for machines where systemd-analyze cannot run
// (and run everywhere, as it also checks what verify does not: the settings the units promise).
// Every line must be a section header, a comment or Key=value of a known key of its section;
// booleans must be booleans; ExecStart must be an absolute path; and the units must keep what
// the README says of them (Restart=on-failure; the system unit hardened, reading its env files).
// Usage: node .ci/systemd-lint.mjs <system unit> <user unit>
import { readFileSync } from 'node:fs';

const KEYS = {
  Unit: ['Description', 'Documentation', 'After', 'Wants', 'Requires', 'Before', 'PartOf', 'ConditionPathExists'],
  Service: [
    'Type', 'User', 'Group', 'Environment', 'EnvironmentFile', 'ExecStart', 'ExecStartPre', 'ExecStop',
    'ExecReload', 'TimeoutStopSec', 'TimeoutStartSec', 'Restart', 'RestartSec', 'WorkingDirectory',
    'StateDirectory', 'StateDirectoryMode', 'RuntimeDirectory', 'RuntimeDirectoryMode', 'LogsDirectory',
    'NoNewPrivileges', 'ProtectSystem', 'ProtectHome', 'ReadWritePaths', 'ReadOnlyPaths', 'PrivateTmp',
    'PrivateDevices', 'ProtectKernelTunables', 'ProtectKernelModules', 'ProtectKernelLogs',
    'ProtectControlGroups', 'ProtectClock', 'ProtectHostname', 'ProtectProc', 'RestrictNamespaces',
    'RestrictRealtime', 'RestrictSUIDSGID', 'LockPersonality', 'RestrictAddressFamilies',
    'SystemCallArchitectures', 'SystemCallFilter', 'SystemCallErrorNumber', 'CapabilityBoundingSet',
    'AmbientCapabilities', 'UMask', 'KillSignal', 'SyslogIdentifier',
  ],
  Install: ['WantedBy', 'Alias'],
};
const BOOLEAN = new Set([
  'NoNewPrivileges', 'PrivateTmp', 'PrivateDevices', 'ProtectKernelTunables', 'ProtectKernelModules',
  'ProtectKernelLogs', 'ProtectControlGroups', 'ProtectClock', 'ProtectHostname', 'RestrictRealtime',
  'RestrictSUIDSGID', 'LockPersonality', 'RestrictNamespaces',
]);
const BOOL_VALUES = new Set(['yes', 'no', 'true', 'false', 'on', 'off', '1', '0']);
const ENUMS = {
  Type: ['simple', 'exec', 'forking', 'oneshot', 'notify'],
  Restart: ['no', 'on-success', 'on-failure', 'on-abnormal', 'on-watchdog', 'on-abort', 'always'],
  ProtectSystem: ['yes', 'no', 'full', 'strict'],
  ProtectHome: ['yes', 'no', 'read-only', 'tmpfs'],
  ProtectProc: ['noaccess', 'invisible', 'ptraceable', 'default'],
};

function parse(file) {
  const units = {};
  const problems = [];
  let section;
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((raw, i) => {
      const at = `${file}:${i + 1}`;
      const line = raw.trim();
      if (!line || line.startsWith('#') || line.startsWith(';')) return;
      const head = /^\[([A-Za-z]+)\]$/.exec(line);
      if (head) {
        section = head[1];
        if (!KEYS[section]) problems.push(`${at}: unknown section [${section}]`);
        units[section] ??= {};
        return;
      }
      const kv = /^([A-Za-z]+)=(.*)$/.exec(line);
      if (!kv) return problems.push(`${at}: not Key=value: ${line}`);
      if (!section) return problems.push(`${at}: ${kv[1]} before any section`);
      const [, key, value] = kv;
      if (!KEYS[section]?.includes(key)) problems.push(`${at}: unknown key ${key} in [${section}]`);
      if (BOOLEAN.has(key) && !BOOL_VALUES.has(value)) problems.push(`${at}: ${key}=${value} is not a boolean`);
      if (ENUMS[key] && !ENUMS[key].includes(value)) problems.push(`${at}: ${key}=${value}: one of ${ENUMS[key].join(', ')}`);
      if (key.startsWith('Exec') && !/^[-@:+!]*\//.test(value)) problems.push(`${at}: ${key} must start with an absolute path`);
      (units[section][key] ??= []).push(value);
    });
  return { units, problems };
}

const need = (u, section, key, want, problems, file) => {
  const got = u[section]?.[key]?.at(-1);
  if (want instanceof RegExp ? !want.test(got ?? '') : got !== want)
    problems.push(`${file}: [${section}] ${key}=${got ?? '(unset)'}, expected ${want}`);
};

const [systemUnit, userUnit] = process.argv.slice(2);
let all = [];
for (const [file, kind] of [
  [systemUnit, 'system'],
  [userUnit, 'user'],
]) {
  const { units, problems } = parse(file);
  need(units, 'Unit', 'Description', /./, problems, file);
  need(units, 'Service', 'ExecStart', /clawpulse start$/, problems, file);
  need(units, 'Service', 'Restart', 'on-failure', problems, file);
  need(units, 'Service', 'NoNewPrivileges', 'yes', problems, file);
  need(units, 'Install', 'WantedBy', kind === 'system' ? 'multi-user.target' : 'default.target', problems, file);
  if (kind === 'system') {
    need(units, 'Service', 'ProtectSystem', 'strict', problems, file);
    need(units, 'Service', 'ProtectHome', 'read-only', problems, file);
    need(units, 'Service', 'StateDirectory', 'clawpulse', problems, file);
    need(units, 'Service', 'ReadWritePaths', /\/var\/lib\/clawpulse/, problems, file);
    const envFiles = units.Service?.EnvironmentFile ?? [];
    if (envFiles.join(' ') !== '-/etc/status-watcher.env -/etc/clawpulse.env')
      problems.push(`${file}: EnvironmentFile should read -/etc/status-watcher.env, then -/etc/clawpulse.env (got ${envFiles.join(', ')})`);
  }
  all = all.concat(problems);
}
if (all.length) {
  console.error(`systemd units: ${all.length} problem(s):\n  ${all.join('\n  ')}`);
  process.exit(1);
}
console.log(`systemd units: ${systemUnit} and ${userUnit} pass the strict check`);
