/**
 * The message a dispatched session receives: the task, and how to say it is done. The label's
 * raw task prompt is stored apart (the `done` guards read it); this is what the agent sees.
 */

/** quotes a value for a POSIX shell command line */
export const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export function taskMessage(label: string, task: string): string {
  return [
    `[Subagent Task]: ${task}`,
    '',
    '---',
    'COMPLETION SIGNAL: when the work is really finished (edits saved, commits pushed, checks run),',
    'run this as your final action:',
    `  clawpulse dispatch done --label ${shellQuote(label)} --summary "<what you did>" --checklist '{"work_complete":true}'`,
    'Add --sha <commit> when the task pushed commits. Do not call it while planning or mid-task.',
    '---',
  ].join('\n');
}

/** the continuation sent into the same session after an overload failure */
export function continuationMessage(attempt: number, max: number, error: string): string {
  return [
    `[clawpulse retry ${attempt}/${max}] The previous attempt stopped on a temporary model overload (${error.slice(0, 200)}).`,
    'Continue the task from where you left off; do not start over.',
  ].join(' ');
}

/** commands in a task prompt that make `done --sha` required */
const GIT_WRITE_RE = /git\s+push|git\s+rebase|git\s+cherry-pick|--force-with-lease|--force-push/i;

export const needsSha = (taskPrompt: string | undefined): boolean =>
  taskPrompt !== undefined && GIT_WRITE_RE.test(taskPrompt);
