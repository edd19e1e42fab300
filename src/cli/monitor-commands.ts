/**
 * Registers `clawpulse monitor …` and `clawpulse skills …` on the program. The command modules
 * load on use (src/cli/monitor.ts, src/cli/skills.ts). Usage errors of these commands exit 2.
 */
import { type Command, type CommanderError, Option } from 'commander';
import { configFromCli } from './config-from-cli.js';

const monitorModule = () => import('./monitor.js');

/** a subcommand's options plus those `monitor` took (commander gives `monitor` the shared ones) */
const all = <T>(c: Command): T => c.optsWithGlobals() as T;

type Opts = { stateDir?: string; onlyLive?: boolean; fork?: boolean; interval?: string; detached?: boolean };

const usageExit = (e: CommanderError) => process.exit(e.exitCode === 0 ? 0 : 2);

const run = (p: Promise<number> | number) =>
  Promise.resolve(p).then((code) => {
    process.exitCode = code;
  });

const stateDir = (c: Command) =>
  c.option('--state-dir <dir>', 'OpenClaw state dir (OPENCLAW_STATE_DIR, default ~/.openclaw)');
const onlyLive = (c: Command) =>
  c.option(
    '--only-live',
    'upload only agents whose gateway answers or that had a session event within the interval (MONITOR_ONLY_LIVE=1)',
  );

export function registerMonitorCommands(program: Command): void {
  const monitor = program
    .command('monitor')
    .description(
      'upload agent status to the openclaw-agent-monitor platform (no subcommand: one upload, for cron)',
    )
    .exitOverride(usageExit);
  onlyLive(stateDir(monitor)).action((o: Opts) =>
    run(monitorModule().then((m) => m.monitorOnce(configFromCli(o), o))),
  );

  onlyLive(stateDir(monitor.command('start')))
    .description('upload every MIN minutes (default 5, or the saved interval); --fork detaches')
    .option('--fork', 'detach and return once the uploader runs')
    .option('-i, --interval <min>', 'minutes between uploads (saved as syncIntervalMinutes)')
    .addOption(new Option('--detached').hideHelp())
    .action((_o: Opts, c: Command) => {
      const o = all<Opts>(c);
      return run(monitorModule().then((m) => m.monitorStart(configFromCli(o), o)));
    });

  stateDir(monitor.command('stop'))
    .description('stop the uploader')
    .action((_o: Opts, c: Command) =>
      run(monitorModule().then((m) => m.monitorStop(configFromCli(all<Opts>(c))))),
    );

  onlyLive(stateDir(monitor.command('restart')))
    .description('restart the uploader (detached) and print its new PID')
    .option('-i, --interval <min>', 'minutes between uploads (saved as syncIntervalMinutes)')
    .action((_o: Opts, c: Command) => {
      const o = all<Opts>(c);
      return run(monitorModule().then((m) => m.monitorRestart(configFromCli(o), o)));
    });

  stateDir(monitor.command('status'))
    .description(
      'running or not, PID, interval, log file, the last log lines and errors (exit 3 when not running)',
    )
    .action((_o: Opts, c: Command) =>
      run(monitorModule().then((m) => m.monitorStatus(configFromCli(all<Opts>(c))))),
    );

  stateDir(monitor.command('set-interval <min>'))
    .description('save the interval in minutes; a running uploader takes it without a restart')
    .action((min: string, _o: Opts, c: Command) =>
      run(monitorModule().then((m) => m.monitorSetInterval(configFromCli(all<Opts>(c)), min))),
    );

  onlyLive(stateDir(monitor.command('test')))
    .description('one upload now: prints the agent ids and the result')
    .action((_o: Opts, c: Command) => {
      const o = all<Opts>(c);
      return run(monitorModule().then((m) => m.monitorTest(configFromCli(o), o)));
    });

  stateDir(monitor.command('login <token>'))
    .description('save the Agent Token (file mode 0600) and validate it with one upload')
    .option('--url <url>', 'the monitor platform (default https://openclaw-agent-monitor.vercel.app)')
    .action((token: string, _o: Opts, c: Command) => {
      const o = all<Opts & { url?: string }>(c);
      return run(monitorModule().then((m) => m.monitorLogin(configFromCli(o), token, o.url)));
    });

  const skills = program
    .command('skills')
    .description("OpenClaw skills that drive clawpulse from chat (installed into the state dir's skills/)")
    .exitOverride(usageExit);
  stateDir(skills.command('install'))
    .description('copy the skills into <state dir>/skills/ (never over a skill you edited, unless --force)')
    .option('--force', 'overwrite skills edited since they were installed')
    .action((o: Opts & { force?: boolean }) =>
      run(
        import('./skills.js').then((m) =>
          m.installSkills(configFromCli(o).sources.stateDir, Boolean(o.force)),
        ),
      ),
    );
}
