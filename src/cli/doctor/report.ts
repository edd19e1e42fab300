/** What each `clawpulse doctor` check says, and how the report prints. */

/** ok; warn: works, but something is off; fail: a problem (exit 1); skip: not configured */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  /** what was checked, e.g. "gateway", "Mattermost token" */
  name: string;
  status: CheckStatus;
  /** what was found */
  detail: string;
  /** what to do about it (warn and fail) */
  fix?: string;
}

export const ok = (name: string, detail: string): CheckResult => ({ name, status: 'ok', detail });
export const skip = (name: string, detail: string): CheckResult => ({ name, status: 'skip', detail });
export const warn = (name: string, detail: string, fix?: string): CheckResult =>
  fix ? { name, status: 'warn', detail, fix } : { name, status: 'warn', detail };
export const fail = (name: string, detail: string, fix: string): CheckResult => ({
  name,
  status: 'fail',
  detail,
  fix,
});

const LABEL: Record<CheckStatus, string> = { ok: 'ok', warn: 'WARN', fail: 'FAIL', skip: '--' };
const COLOR: Record<CheckStatus, string> = { ok: '32', warn: '33', fail: '31', skip: '2' };

export function formatReport(results: readonly CheckResult[], color: boolean): string {
  const paint = (s: CheckStatus, text: string) => (color ? `\x1b[${COLOR[s]}m${text}\x1b[0m` : text);
  const width = Math.max(...results.map((r) => r.name.length));
  const lines = ['clawpulse doctor'];
  for (const r of results) {
    lines.push(`  ${paint(r.status, LABEL[r.status].padEnd(4))}  ${r.name.padEnd(width)}  ${r.detail}`);
    if (r.fix && r.status !== 'ok') lines.push(`        ${' '.repeat(width)}  fix: ${r.fix}`);
  }
  const problems = results.filter((r) => r.status === 'fail').length;
  const warnings = results.filter((r) => r.status === 'warn').length;
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
  lines.push(
    problems || warnings
      ? `${plural(problems, 'problem')}, ${plural(warnings, 'warning')}`
      : 'no problems found',
  );
  return `${lines.join('\n')}\n`;
}
