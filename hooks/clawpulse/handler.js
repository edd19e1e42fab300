// OpenClaw internal hook: start clawpulse when the gateway starts (see HOOK.md).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * What to run: CLAWPULSE_BIN, else the clawpulse script install.sh recorded next to this file
 * (run with the gateway's own node: the gateway's PATH may have neither npm's bin dir nor
 * node), else `clawpulse` from PATH.
 */
function command(env) {
  if (env.CLAWPULSE_BIN) return [env.CLAWPULSE_BIN, []];
  try {
    const script = readFileSync(new URL('./clawpulse-path', import.meta.url), 'utf8').trim();
    if (script) return [process.execPath, [script]];
  } catch {
    // not installed by install.sh
  }
  return ['clawpulse', []];
}

export default async function clawpulseOnStartup(event, env = process.env) {
  if (event?.type !== 'gateway' || event.action !== 'startup') return { started: false };
  const [bin, pre] = command(env);
  return new Promise((resolve) => {
    let child;
    try {
      child = spawn(bin, [...pre, 'start', '--fork'], { detached: true, stdio: 'ignore', env });
    } catch (err) {
      // a hook must never break the gateway's startup
      resolve({ started: false, error: String(err) });
      return;
    }
    child.once('error', (err) => resolve({ started: false, error: err.message }));
    child.once('spawn', () => {
      child.unref();
      resolve({ started: true, pid: child.pid });
    });
  });
}
