/**
 * The agent ids the uploader reports: `agents.list[].id` of `<state>/openclaw.json` (JSON5, as
 * OpenClaw reads it: comments, unquoted keys, trailing commas). Without a list OpenClaw runs its
 * one default agent, `main`, and so do we.
 */
import fs from 'node:fs';
import JSON5 from 'json5';
import { configPath } from '../openclaw/paths.js';

export class AgentsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AgentsError';
  }
}

export interface AgentIds {
  ids: string[];
  /** where they came from, for `monitor test` */
  origin: string;
}

export function readAgentIds(stateDir: string): AgentIds {
  const file = configPath(stateDir);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ids: ['main'], origin: `the default agent (no ${file})` };
    throw new AgentsError(`cannot read ${file} (${code ?? (err as Error).message})`);
  }
  let cfg: unknown;
  try {
    cfg = JSON5.parse(text);
  } catch (err) {
    throw new AgentsError(`${file} is not valid JSON5 (${(err as Error).message})`);
  }
  const agents = isObj(cfg) && isObj(cfg.agents) ? cfg.agents : undefined;
  const list = agents && Array.isArray(agents.list) ? agents.list : undefined;
  const ids: string[] = [];
  for (const a of list ?? []) {
    const id = isObj(a) && typeof a.id === 'string' ? a.id.trim() : '';
    if (id && !ids.includes(id)) ids.push(id);
  }
  if (!ids.length) return { ids: ['main'], origin: `the default agent (${file} has no agents.list)` };
  return { ids, origin: `agents.list in ${file}` };
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
