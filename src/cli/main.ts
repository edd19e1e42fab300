/**
 * The clawpulse command. Every subcommand reads the same configuration (environment variables,
 * see README), with a few options as shorthands.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { VERSION } from '../version.js';
import { type CommonOptions, configFromCli } from './config-from-cli.js';
import { registerMonitorCommands } from './monitor-commands.js';

// commands load their modules on use: `replay` or `status` need not load the daemon
const start = () => import('./start.js');
const demo = () => import('./demo.js');

const program = new Command();
program
  .name('clawpulse')
  .description(
    'See live what your OpenClaw agents are doing: sessions, tools, sub-agents, tokens, cost, stuck states.',
  )
  .version(VERSION);

const common = (c: Command) =>
  c
    .option('--state-dir <dir>', 'OpenClaw state dir (OPENCLAW_STATE_DIR, default ~/.openclaw)')
    .option('--port <port>', 'HTTP port for health, API and dashboard (HEALTH_PORT, default 9090)')
    .option('--db <file>', 'clawpulse store (CLAWPULSE_DB, default ~/.clawpulse/clawpulse.sqlite)');

/** OpenClaw is "installed" for our purposes when its state dir has agents. */
function hasOpenClaw(stateDir: string): boolean {
  try {
    return existsSync(join(stateDir, 'agents')) && readdirSync(join(stateDir, 'agents')).length > 0;
  } catch {
    return false;
  }
}

common(program.command('up'))
  .description('start clawpulse on your OpenClaw, or the demo when no OpenClaw state is found')
  .action(async (o: CommonOptions) => {
    const config = configFromCli(o);
    if (hasOpenClaw(config.sources.stateDir)) await (await start()).runForeground(config);
    else {
      process.stderr.write(
        `clawpulse: no OpenClaw state in ${config.sources.stateDir}: playing the demo (recorded real sessions)\n`,
      );
      await (await demo()).runDemo(o);
    }
  });

common(program.command('start'))
  .description('run the daemon (foreground; --fork to detach)')
  .option('--fork', 'detach and return once the daemon answers /health (logs to <home>/clawpulse.log)')
  .option('--log-file <file>', 'log to this file instead of stderr (rotated at 10 MB, 5 kept)')
  .action(async (o: CommonOptions & { fork?: boolean; logFile?: string }) => {
    const config = configFromCli(o);
    const { runForked, runForeground } = await start();
    if (o.fork) await runForked(config, process.argv.slice(2), o.logFile);
    else await runForeground(config, { logFile: o.logFile });
  });

/** `--serve`: the command acts on `clawpulse serve` (its own PID file) instead of the daemon */
const orServe = async (config: ReturnType<typeof configFromCli>, serve?: boolean) =>
  serve ? { ...config, pidFile: (await import('./serve.js')).servePidFile(config) } : config;

program
  .command('stop')
  .description('stop the running daemon (or demo) gracefully; exits 3 when none runs')
  .option('--serve', 'stop `clawpulse serve` instead')
  .action(async (o: { serve?: boolean }) => {
    process.exitCode = await (await import('./stop-status.js')).stopDaemon(
      await orServe(configFromCli({}), o.serve),
    );
  });

common(program.command('status'))
  .description(
    'is the daemon running; which sources are live and how far behind (exit 3: not running, 4: degraded)',
  )
  .option('--json', 'machine-readable')
  .option('--serve', 'the status of `clawpulse serve` (the fleet view) and its hosts')
  .action(async (o: CommonOptions & { json?: boolean; serve?: boolean }) => {
    process.exitCode = await (await import('./stop-status.js')).printStatus(
      await orServe(configFromCli(o), o.serve),
      Boolean(o.json),
    );
  });

common(program.command('serve'))
  .description(
    'the fleet view: dashboard, API and SSE for every host writing into the shared PostgreSQL store (CLAWPULSE_STORE); foreground',
  )
  .option(
    '--cache <file>',
    'its local mirror of the store (default <home>/fleet-<db>.sqlite; :memory: keeps none)',
  )
  .option('--log-file <file>', 'log to this file instead of stderr (rotated at 10 MB, 5 kept)')
  .action(async (o: CommonOptions & { cache?: string; logFile?: string }) =>
    (await import('./serve.js')).runServe(configFromCli(o), { cache: o.cache, logFile: o.logFile }),
  );

common(program.command('tail'))
  .description(
    'live status boxes of the active sessions, redrawn in place (from the running daemon when there is one)',
  )
  .option('--once', 'print one frame and exit (for scripts and chat)')
  .action(async (o: CommonOptions & { once?: boolean }) =>
    (await import('./tail.js')).runTail(configFromCli(o), { once: Boolean(o.once) }),
  );

common(program.command('sessions'))
  .description("list the sessions: the running daemon's, else the store's")
  .option('--json', 'machine-readable')
  .option('--gateway <name>', 'only the sessions of this gateway (a name in OPENCLAW_GATEWAYS)')
  .action(async (o: CommonOptions & { json?: boolean; gateway?: string }) => {
    process.exitCode = await (await import('./sessions.js')).listSessions(configFromCli(o), Boolean(o.json), {
      gateway: o.gateway,
    });
  });

common(program.command('alerts'))
  .description("the alerts firing (--all: and resolved): the running daemon's, else the store's")
  .option('--json', 'machine-readable')
  .option('--all', 'resolved alerts too, most recent first')
  .action(async (o: CommonOptions & { json?: boolean; all?: boolean }) => {
    process.exitCode = await (await import('./alerts.js')).listAlerts(configFromCli(o), o);
  });

common(program.command('usage'))
  .description(
    'tokens, cost (estimated marked), runs, tools, errors and active time over a period, from the store',
  )
  .option('--by <group>', 'day|week|month|agent|model|channel|label|repo|host|gateway|session', 'day')
  .option('--since <when>', 'a number of days back (7d, 2w) or a date (2026-11-01); default 7d')
  .option('--until <when>', 'the last day (a date, included) or days back; default today')
  .option('--compare <period>', "'previous': add the period of the same length before it, and the change")
  .option('--limit <n>', 'at most n groups (largest cost first)')
  .option('--json', 'machine-readable')
  .option('--csv', 'comma-separated rows')
  .action(async (o: CommonOptions & import('./usage.js').UsageCliOptions) => {
    process.exitCode = await (await import('./usage.js')).runUsage(configFromCli(o), o);
  });

program
  .command('replay <path>')
  .description(
    'print the final status box of each session of a transcript (.jsonl), a folder of transcripts with sessions.json, or an OpenClaw state dir',
  )
  .option('--json', 'machine-readable')
  .action(async (path: string, o: { json?: boolean }) =>
    (await import('./replay.js')).runReplay(path, configFromCli({}), Boolean(o.json)),
  );

common(program.command('demo'))
  .description('play recorded real OpenClaw sessions into a temp state dir and run clawpulse on them')
  .option('--speed <x>', 'playback speed, above 0 (1 = recorded pace)', '1')
  .option('--once', 'play once, then exit')
  .option('--no-terminal', 'do not draw the boxes in this terminal')
  .action(async (o: CommonOptions & { speed?: string; once?: boolean; terminal?: boolean }) =>
    (await demo()).runDemo(o),
  );

// `monitor …` (the agent-monitor platform uploader) and `skills install`
registerMonitorCommands(program);

program
  .command('logs')
  .description('the daemon log (<home>/clawpulse.log, written by start --fork), readable')
  .option('-f, --follow', 'keep printing new lines (Ctrl-C stops)')
  .option('--json', 'the JSON lines as they are')
  .option('-n, --lines <n>', 'how many of the last lines', '100')
  .option('--file <file>', 'another log file')
  .action(async (o: { follow?: boolean; json?: boolean; lines: string; file?: string }) => {
    const lines = Number(o.lines);
    if (!Number.isInteger(lines) || lines < 0) {
      process.stderr.write(`clawpulse: --lines wants a whole number, got ${o.lines}\n`);
      process.exit(2);
    }
    process.exitCode = await (await import('./logs.js')).showLogs(configFromCli({}), { ...o, lines });
  });

common(program.command('doctor'))
  .description(
    'check the setup (Node, OpenClaw, gateway, Mattermost, port, store); each problem with its fix',
  )
  .option('--json', 'machine-readable')
  .action(async (o: CommonOptions & { json?: boolean }) => {
    const { runDoctor, envWithOptions } = await import('./doctor/doctor.js');
    process.exitCode = await runDoctor(envWithOptions(process.env, o), { json: Boolean(o.json) });
  });

// listed for --help; its own parser (src/cli/dispatch.ts) takes every word after it
program
  .command('dispatch')
  .description('start, steer and track labelled sessions (clawpulse dispatch --help)')
  .helpOption(false)
  .allowUnknownOption()
  .allowExcessArguments();

const argv = process.argv.slice(2);
if (argv[0] === 'dispatch') {
  import('./dispatch.js')
    .then(({ runDispatch }) => runDispatch(argv.slice(1)))
    .then((code) => {
      process.exitCode = code;
    })
    .catch((err: Error) => {
      process.stderr.write(`clawpulse: ${err.message}\n`);
      process.exit(1);
    });
} else
  program.parseAsync(process.argv).catch((err: Error) => {
    process.stderr.write(`clawpulse: ${err.message}\n`);
    process.exit(1);
  });
