/**
 * `live-status`: the original Live Status command, kept so scripts and agent prompts written
 * for it keep working. The watcher commands of v4 run the clawpulse ones; the v1 per-call
 * commands (an agent creating and editing its own status post) are no longer needed, since
 * clawpulse follows every session by itself: they print one line saying so and exit 0, and
 * print nothing on stdout (`BOX=$(live-status create …)` leaves BOX empty, and the
 * `live-status update "$BOX" …` that follows is a no-op too).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { withLegacyNames } from '../config/legacy-env.js';
import { VERSION } from '../version.js';

/** v4 watcher commands → the clawpulse arguments they run */
export const WATCHER_COMMANDS: Readonly<Record<string, readonly string[]>> = {
  'start-watcher': ['start', '--fork'],
  'stop-watcher': ['stop'],
  status: ['status'],
};

/** the v1 per-call commands (skill/SKILL.md of Live Status v1: create, update, delete; complete) */
export const V1_COMMANDS: readonly string[] = ['create', 'update', 'complete', 'delete'];

/** v1 options that take a value, given before the command (`live-status --channel C create …`) */
const V1_VALUE_OPTIONS = new Set(['--channel', '--reply-to', '--agent', '--token', '--host']);

export const DEPRECATION_NOTE =
  'status is automatic now: clawpulse follows every session and keeps its status box up to date';

const USAGE = `Usage: live-status <command>

The Live Status command, now run by clawpulse (${VERSION}).

  start-watcher   start the daemon in the background  (clawpulse start --fork)
  stop-watcher    stop it                              (clawpulse stop)
  status          is it running, what it follows       (clawpulse status)

  ${V1_COMMANDS.join(', ')}: no longer needed (${DEPRECATION_NOTE.split(':')[0]}); they do nothing and exit 0.

Everything else: clawpulse --help.
`;

/** the command word, skipping v1 options and their values */
export function findCommand(argv: readonly string[]): { command?: string; rest: string[] } {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (V1_VALUE_OPTIONS.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith('--') && a.includes('=') && V1_VALUE_OPTIONS.has(a.slice(0, a.indexOf('=')))) continue;
    return { command: a, rest: argv.slice(i + 1) };
  }
  return { rest: [] };
}

export interface LiveStatusIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** runs clawpulse with these arguments; returns its exit code */
  runClawpulse: (args: readonly string[], env: NodeJS.ProcessEnv) => number;
  env: NodeJS.ProcessEnv;
}

export function runLiveStatus(argv: readonly string[], io: LiveStatusIo): number {
  const { command, rest } = findCommand(argv);
  if (command === undefined) {
    io.stderr(USAGE);
    return 2;
  }
  if (command === '--help' || command === '-h' || command === 'help') {
    io.stdout(USAGE);
    return 0;
  }
  if (command === '--version' || command === '-V' || command === 'version') {
    io.stdout(`${VERSION}\n`);
    return 0;
  }
  const mapped = WATCHER_COMMANDS[command];
  if (mapped) return io.runClawpulse([...mapped, ...rest], withLegacyNames(io.env));
  if (V1_COMMANDS.includes(command)) {
    io.stderr(`live-status ${command}: deprecated, did nothing; ${DEPRECATION_NOTE}.\n`);
    return 0;
  }
  io.stderr(`live-status: unknown command "${command}"\n\n${USAGE}`);
  return 2;
}

/** the clawpulse bin next to this one, run with this Node */
function runClawpulse(args: readonly string[], env: NodeJS.ProcessEnv): number {
  const bin = fileURLToPath(new URL('../../bin/clawpulse.js', import.meta.url));
  const r = spawnSync(process.execPath, [bin, ...args], { stdio: 'inherit', env });
  if (r.error) {
    process.stderr.write(`live-status: could not run clawpulse: ${r.error.message}\n`);
    return 1;
  }
  return r.status ?? 1;
}

export function main(): void {
  process.exitCode = runLiveStatus(process.argv.slice(2), {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    runClawpulse,
    env: process.env,
  });
}
