/**
 * Where the gateway token comes from: OPENCLAW_GATEWAY_TOKEN, else `gateway.auth.token` in
 * `<stateDir>/openclaw.json` (JSON5: unquoted keys, comments, trailing commas). We keep the
 * origin so an auth failure can say which one to fix, without ever printing the token.
 */
import fs from 'node:fs';
import JSON5 from 'json5';
import { configPath } from '../paths.js';
import { isObj, str } from './frames.js';

export interface ResolvedToken {
  token?: string;
  /** human description of where the token was read, e.g. "gateway.auth.token in /x/openclaw.json" */
  origin: string;
  /** set when openclaw.json could not be read or parsed (the source still connects without a token) */
  problem?: string;
}

export function resolveGatewayToken(o: { token?: string; stateDir?: string }): ResolvedToken {
  if (o.token) return { token: o.token, origin: 'OPENCLAW_GATEWAY_TOKEN' };
  if (!o.stateDir)
    return { origin: 'nowhere (OPENCLAW_GATEWAY_TOKEN is unset and no OpenClaw state dir is known)' };
  const file = configPath(o.stateDir);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    return {
      origin: `nowhere (OPENCLAW_GATEWAY_TOKEN is unset and ${file} is unreadable: ${code})`,
      problem: code,
    };
  }
  let cfg: unknown;
  try {
    cfg = JSON5.parse(text);
  } catch (err) {
    return { origin: `nowhere (${file} is not valid JSON5)`, problem: (err as Error).message };
  }
  const gateway = isObj(cfg) && isObj(cfg.gateway) ? cfg.gateway : {};
  const auth = isObj(gateway.auth) ? gateway.auth : {};
  const token = str(auth.token);
  if (!token) return { origin: `nowhere (${file} has no gateway.auth.token)` };
  return { token, origin: `gateway.auth.token in ${file}` };
}
