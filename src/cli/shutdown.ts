/**
 * Ctrl-C and SIGTERM for the foreground commands (`start`, `up`, `demo`, `tail`): the first
 * signal stops gracefully within a deadline, a second one exits at once. Nothing here waits on
 * stdout or stderr: with output piped into a process that is gone (`clawpulse up | tee log`,
 * then Ctrl-C kills tee too) every write fails with EPIPE, and shutdown must finish anyway.
 */
import { safeFdWriter } from '../infra/log-format.js';

export interface ShutdownOptions {
  /** the graceful stop; its promise settling ends the process */
  stop(signal: string): Promise<void>;
  /** runs before every exit, graceful or not (pid file, run file); must not throw */
  cleanup?(): void;
  /** after this, the process exits (1) even if stop has not finished (default 20 s) */
  deadlineMs?: number;
  /** for tests: process.exit, process.on, stderr lines */
  exit?(code: number): void;
  on?(signal: NodeJS.Signals, listener: () => void): void;
  say?(text: string): void;
}

/** a stdout or stderr that went away (EPIPE) must neither crash nor be logged in a loop */
export function ignoreBrokenStdio(): void {
  for (const s of [process.stdout, process.stderr]) {
    if (s.listenerCount('error') === 0) s.on('error', () => {});
  }
}

const stderrLine = safeFdWriter(2);

export function installShutdown(o: ShutdownOptions): { readonly stopping: boolean } {
  const exit = o.exit ?? ((code: number) => process.exit(code));
  const on = o.on ?? ((sig: NodeJS.Signals, fn: () => void) => void process.on(sig, fn));
  const say = o.say ?? ((t: string) => stderrLine(`${t}\n`));
  const deadlineMs = o.deadlineMs ?? 20_000;
  let stopping = false;
  let done = false;
  const finish = (code: number) => {
    if (done) return;
    done = true;
    try {
      o.cleanup?.();
    } catch {
      // exiting anyway
    }
    exit(code);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      say(`clawpulse: ${signal} again: exiting now`);
      finish(130);
      return;
    }
    stopping = true;
    const timer = setTimeout(() => {
      say(`clawpulse: did not stop within ${Math.round(deadlineMs / 1000)} s; exiting`);
      finish(1);
    }, deadlineMs);
    timer.unref?.();
    o.stop(signal).then(
      () => finish(0),
      (err: unknown) => {
        say(`clawpulse: shutdown failed: ${(err as Error)?.message ?? String(err)}`);
        finish(1);
      },
    );
  };
  on('SIGINT', () => onSignal('SIGINT'));
  on('SIGTERM', () => onSignal('SIGTERM'));
  return {
    get stopping() {
      return stopping;
    },
  };
}
