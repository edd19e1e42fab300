/** `clawpulse sessions [--json]`: the sessions the store knows (works while the daemon runs: WAL). */
import { existsSync } from 'node:fs';
import type { Config } from '../config/config.js';
import { formatDuration } from '../model/format.js';
import { createSessionTracker } from '../model/tracker.js';
import { restoreModel } from '../pipeline.js';
import { formatTokens } from '../render/format.js';
import { toReplayJson } from '../render/json-view.js';
import { createSqliteStore } from '../store/sqlite-store.js';

export function listSessions(config: Readonly<Config>, json: boolean, now = Date.now()): void {
  if (!existsSync(config.dbPath)) {
    if (json) process.stdout.write(`${JSON.stringify({ sessions: [] })}\n`);
    else process.stdout.write(`no store yet at ${config.dbPath} (start clawpulse first)\n`);
    return;
  }
  const store = createSqliteStore(config.dbPath);
  // snapshots plus the events stored after them: what the daemon's model holds
  const tracker = createSessionTracker(config.model);
  restoreModel(store, tracker);
  store.close();
  const sessions = tracker.all();
  if (json) {
    process.stdout.write(`${JSON.stringify(toReplayJson(sessions), null, 2)}\n`);
    return;
  }
  if (!sessions.length) {
    process.stdout.write('no sessions stored yet\n');
    return;
  }
  sessions.sort((a, b) => b.lastEventAt - a.lastEventAt);
  const rows = sessions.map((s) => [
    s.status.toUpperCase(),
    s.key,
    s.label ?? '',
    formatDuration((s.endedAt ?? now) - s.startedAt),
    formatTokens(s.tokens.total),
    `$${s.costUsd.toFixed(4)}`,
    s.parentKey ? `↳ ${s.parentKey}` : '',
  ]);
  const head = ['STATUS', 'SESSION', 'LABEL', 'ELAPSED', 'TOKENS', 'COST', 'PARENT'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${[line(head), ...rows.map(line)].join('\n')}\n`);
}
