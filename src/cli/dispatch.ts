/**
 * `clawpulse dispatch <command>` (and the `clawpulse-dispatch` bin): openclaw-scheduler's
 * dispatch CLI with the same commands, flags, defaults and exit codes (0 ok, 1 refused or failed
 * or stuck found, 2 bad arguments), on clawpulse's ledger, gateway connection and live model.
 * Human text by default, one JSON object with --json.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { Config } from '../config/config.js';
import type { DispatchContext } from '../dispatch/context.js';
import { done } from '../dispatch/done.js';
import { enqueue } from '../dispatch/enqueue.js';
import { DispatchError } from '../dispatch/errors.js';
import { steerSession } from '../dispatch/gateway-ops.js';
import { heartbeat, list, result, status, stuck } from '../dispatch/inspect.js';
import { importLabels, recover, sync } from '../dispatch/reconcile.js';
import type { LabelStatus } from '../store/dispatch-ledger.js';
import { configFromCli } from './config-from-cli.js';
import { openCliDispatch } from './dispatch-context.js';
import * as fmt from './dispatch-format.js';

type Out = { json?: boolean };
type Handler<O> = (
  ctx: DispatchContext,
  o: O & Out,
) => Promise<{
  value: unknown;
  text: string;
  code?: number /** --json text when not JSON.stringify(value) */;
  json?: string;
}>;

// InvalidArgumentError: commander prints it, naming the option and value, before the exit 2
const int = (name: string) => (v: string) => {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`${name} must be a whole number`);
  return Number(v);
};

export function buildDispatchProgram(run: <O>(h: Handler<O>) => (o: O & Out) => Promise<void>): Command {
  const p = new Command('dispatch')
    .description('start, steer and track labelled OpenClaw sessions (openclaw-scheduler dispatch compatible)')
    .exitOverride()
    .showHelpAfterError();
  const cmd = (name: string, description: string) =>
    p.command(name).description(description).option('--json', 'one JSON object on stdout').exitOverride();

  cmd('enqueue', 'start a labelled session now')
    .requiredOption('--label <label>', 'human name, used for lookup and reuse')
    .requiredOption('--message <text>', 'the task prompt')
    .addOption(
      new Option('--mode <mode>', "fresh: a new session; reuse: the label's last session")
        .choices(['fresh', 'reuse'])
        .default('fresh'),
    )
    .option('--session-key <key>', 'an explicit session key (bypasses the ledger)')
    .option('--agent <id>', 'agent id', 'main')
    .option('--model <model>', 'model override, e.g. anthropic/claude-sonnet-4-6')
    .addOption(new Option('--thinking <level>', 'reasoning level').choices(['low', 'high', 'xhigh']))
    .option('--timeout <s>', 'run timeout in seconds', int('--timeout'), 300)
    .option('--deliver-to <target>', 'deliver the final reply to this chat target')
    .option('--deliver-channel <channel>', 'channel for --deliver-to', 'telegram')
    .addOption(
      new Option(
        '--delivery-mode <mode>',
        'announce: a non-empty reply; announce-always: also a note when empty; none',
      )
        .choices(['announce', 'announce-always', 'none'])
        .default('announce'),
    )
    .option('--origin <origin>', 'audit origin, e.g. telegram:12345')
    .option('--no-monitor', 'no delivery or verify by the daemon for this run')
    .option('--monitor-interval <cron>', 'accepted for compatibility: the daemon follows the run live')
    .option(
      '--monitor-timeout <min>',
      'minutes after which a still-running label is reported stuck',
      int('--monitor-timeout'),
    )
    .option('--verify-cmd <command>', 'a shell command run after the run completes')
    .action(
      run(async (ctx, o: EnqueueOpts) => {
        const delivers = o.deliverTo && o.deliveryMode !== 'none';
        if ((delivers || o.verifyCmd) && o.monitor && !ctx.daemonRunning)
          throw new DispatchError(
            `no clawpulse daemon is running, so nobody would ${delivers ? 'deliver the result' : 'run --verify-cmd'}: start it (clawpulse start --fork) or pass --no-monitor`,
          );
        const gateway = await ctx.gateway();
        const r = await enqueue(
          {
            label: o.label,
            message: o.message,
            mode: o.mode,
            sessionKey: o.sessionKey,
            agent: o.agent,
            model: o.model,
            thinking: o.thinking,
            timeoutSeconds: o.timeout,
            deliverTo: o.deliverTo,
            deliverChannel: o.deliverChannel,
            deliveryMode: o.deliveryMode,
            origin: o.origin,
            monitor: o.monitor,
            monitorInterval: o.monitorInterval,
            monitorTimeoutMinutes: o.monitorTimeout,
            verifyCmd: o.verifyCmd,
          },
          { gateway, ledger: ctx.ledger, now: ctx.now, uuid: randomUUID },
        );
        if (!ctx.daemonRunning)
          ctx.emitter.emit({
            event: 'dispatch.started',
            ts: ctx.now(),
            label: r.label,
            sessionKey: r.sessionKey,
            runId: r.runId,
            host: ctx.host,
            agent: r.agent,
          });
        return { value: r, text: fmt.enqueued(r, ctx.daemonRunning) };
      }),
    );

  for (const name of ['send', 'steer'])
    cmd(name, name === 'send' ? 'message a running session (mid-run steering)' : 'alias of send')
      .option('--label <label>', 'the label')
      .option('--session-key <key>', 'or a session key')
      .requiredOption('--message <text>', 'what to tell it')
      .action(
        run(async (ctx, o: { label?: string; sessionKey?: string; message: string }) => {
          const key = o.sessionKey ?? (o.label ? ctx.ledger.get(o.label)?.sessionKey : undefined);
          if (!o.label && !o.sessionKey) throw new DispatchError('--label or --session-key is required', 2);
          if (!key) throw new DispatchError(`no label "${o.label}" in the dispatch ledger`);
          const r = await steerSession(await ctx.gateway(), key, o.message);
          const value = { ok: true, label: o.label ?? null, sessionKey: key, ...r };
          return {
            value,
            text: `sent to ${o.label ?? key} (${r.mode === 'steer' ? 'steered into the active run' : 'as a follow-up turn'}), run ${r.runId ?? '?'}`,
          };
        }),
      );

  cmd('status', 'ledger entry plus live state of a label')
    .requiredOption('--label <label>', 'the label')
    .action(
      run(async (ctx, o: { label: string }) => {
        const v = await status(ctx, o.label);
        return { value: v, text: fmt.status(v) };
      }),
    );

  cmd('stuck', 'running labels with no activity (exit 1 and a list when some are stuck)')
    .option('--threshold-min <n>', 'minutes without an event', int('--threshold-min'), 15)
    .action(
      run(async (ctx, o: { thresholdMin: number }) => {
        const found = await stuck(ctx, o.thresholdMin);
        if (found.length && !ctx.daemonRunning)
          for (const s of found)
            ctx.emitter.emit({
              event: 'dispatch.stuck',
              ts: ctx.now(),
              label: s.label,
              sessionKey: s.sessionKey,
              host: ctx.host,
              agent: s.agent,
              detail: `silent ${s.silenceMin} min`,
            });
        const value = {
          ok: true,
          stuck_count: found.length,
          stuck_sessions: found,
          threshold_min: o.thresholdMin,
        };
        return { value, text: fmt.stuckList(found), code: found.length ? 1 : 0 };
      }),
    );

  cmd('result', 'the last assistant reply of a label')
    .requiredOption('--label <label>', 'the label')
    .action(
      run(async (ctx, o: { label: string }) => {
        const v = await result(ctx, o.label);
        return {
          value: v,
          text: v.lastReply ?? `(no reply yet; status ${v.status}${v.error ? `: ${v.error}` : ''})`,
        };
      }),
    );

  cmd('done', "the agent's completion signal, with guards")
    .requiredOption('--label <label>', 'the label')
    .requiredOption('--checklist <json>', 'JSON with "work_complete": true')
    .option('--summary <text>', 'one-line summary')
    .option('--sha <sha>', 'the pushed commit (required when the task pushes)')
    .option('--force-done', 'override the minimum-runtime guard (needs --reason)')
    .option('--reason <text>', 'why a short run is complete')
    .option('--skip-activity-check', 'do not require assistant messages')
    .action(
      run(async (ctx, o: DoneOpts) => {
        const v = await done(ctx, { ...o, forceDone: o.forceDone, skipActivityCheck: o.skipActivityCheck });
        const warn = v.warnings.map((w) => `warning: ${w}\n`).join('');
        return { value: v, text: `${warn}${o.label} marked done${o.sha ? ` (${o.sha})` : ''}` };
      }),
    );

  cmd('heartbeat', 'is the session alive (updated within 10 min)')
    .option('--label <label>', 'the label')
    .option('--session-key <key>', 'or a session key')
    .action(
      run(async (ctx, o: { label?: string; sessionKey?: string }) => {
        const v = await heartbeat(ctx, o);
        return { value: v, text: fmt.heartbeat(v), code: 0 };
      }),
    );

  cmd('list', 'labels, most recent first')
    .addOption(
      new Option('--status <status>', 'only this status').choices(['running', 'done', 'error', 'stale']),
    )
    .option('--limit <n>', "at most this many (the original's default: 20; 0 = all)", int('--limit'), 20)
    .action(
      run(async (ctx, o: { status?: LabelStatus; limit?: number }) => {
        const rows = ctx.ledger.list({ status: o.status, limit: o.limit || undefined });
        const v = list(ctx, { status: o.status, limit: o.limit || undefined });
        // labels.json's shape, in order: a JS object would put integer-like labels ("1234") first
        const json = `{${rows
          .map((r) => [r.label, r.entry] as const)
          .map(([k, e]) => `\n  ${JSON.stringify(k)}: ${JSON.stringify(e, null, 2).replace(/\n/g, '\n  ')}`)
          .join(',')}\n}`;
        return { value: v, json, text: fmt.labelTable(rows, ctx.now()) };
      }),
    );

  cmd('sync', 'ledger vs gateway: gone sessions marked stale, unknown ones imported')
    .option('--dry-run', 'show what would change')
    .action(
      run(async (ctx, o: { dryRun?: boolean }) => {
        const v = await sync(ctx, Boolean(o.dryRun));
        return { value: v, text: fmt.syncReport(v) };
      }),
    );

  cmd('recover', 'the 529 safety net as a one-shot (prints only when it retried or failed something)').action(
    run(async (ctx) => {
      const v = await recover(ctx);
      return { value: v, text: fmt.recoverReport(v), code: v.failed.length ? 1 : 0 };
    }),
  );

  cmd('import', 'import an openclaw-scheduler labels.json')
    .argument('<file>', 'the labels.json')
    .action(async (file: string, o: Out) =>
      run(async (ctx) => {
        const v = importLabels(ctx, file);
        return {
          value: v,
          text: `imported ${v.imported.length} labels from ${file}${v.skipped.length ? `; kept ${v.skipped.length} already in the ledger or unreadable` : ''}`,
        };
      })(o),
    );

  return p;
}

interface EnqueueOpts {
  label: string;
  message: string;
  mode: 'fresh' | 'reuse';
  sessionKey?: string;
  agent: string;
  model?: string;
  thinking?: 'low' | 'high' | 'xhigh';
  timeout: number;
  deliverTo?: string;
  deliverChannel: string;
  deliveryMode: 'announce' | 'announce-always' | 'none';
  origin?: string;
  monitor: boolean;
  monitorInterval?: string;
  monitorTimeout?: number;
  verifyCmd?: string;
}

interface DoneOpts {
  label: string;
  checklist: string;
  summary?: string;
  sha?: string;
  forceDone?: boolean;
  reason?: string;
  skipActivityCheck?: boolean;
}

/** runs `dispatch` with argv (the words after `dispatch`); returns the exit code */
export async function runDispatch(argv: string[], config?: Readonly<Config>): Promise<number> {
  let code = 0;
  const run =
    <O>(h: Handler<O>) =>
    async (o: O & Out) => {
      const cfg = config ?? configFromCli({});
      let opened: Awaited<ReturnType<typeof openCliDispatch>> | undefined;
      try {
        opened = await openCliDispatch(cfg);
        await importOnce(opened.ctx, cfg);
        const r = await h(opened.ctx, o);
        code = r.code ?? 0;
        if (o.json) process.stdout.write(`${r.json ?? JSON.stringify(r.value, null, 2)}\n`);
        else if (r.text) process.stdout.write(`${r.text}\n`);
      } catch (err) {
        code = err instanceof DispatchError ? err.exitCode : 1;
        const message = (err as Error).message;
        if (o.json)
          process.stdout.write(
            `${JSON.stringify({ ok: false, error: message, ...(err instanceof DispatchError && err.rule ? { rule: err.rule } : {}) }, null, 2)}\n`,
          );
        process.stderr.write(`[dispatch] ${message}\n`);
      } finally {
        await opened?.close();
      }
    };
  const program = buildDispatchProgram(run);
  program.configureOutput({ writeErr: (s) => process.stderr.write(s) });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help is not an error; anything else commander refused is a bad argument, no command
      // at all too (commander shows the usage with exit code 1; the original exited 2)
      return err.exitCode === 0 ? 0 : 2;
    }
    throw err;
  }
  return code;
}

/** DISPATCH_LABELS_PATH: an existing labels.json is imported once (a ledger claim remembers it) */
async function importOnce(ctx: DispatchContext, config: Readonly<Config>): Promise<void> {
  const file = config.dispatch.labelsPath;
  if (!file || !existsSync(file) || !ctx.ledger.claim(`import:${file}`, '', ctx.now())) return;
  try {
    const r = importLabels(ctx, file);
    process.stderr.write(`[dispatch] imported ${r.imported.length} labels from ${file} (once)\n`);
  } catch (err) {
    ctx.ledger.release(`import:${file}`);
    process.stderr.write(`[dispatch] ${(err as Error).message}\n`);
  }
}
