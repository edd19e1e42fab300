// OpenClaw internal hook: start clawpulse when the gateway starts (see HOOK.md).
import { spawn } from 'node:child_process';

export default async function clawpulseOnStartup(event, env = process.env) {
  if (event?.type !== 'gateway' || event.action !== 'startup') return { started: false };
  const bin = env.CLAWPULSE_BIN || 'clawpulse';
  return new Promise((resolve) => {
    let child;
    try {
      child = spawn(bin, ['start', '--fork'], { detached: true, stdio: 'ignore', env });
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
