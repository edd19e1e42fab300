/**
 * An alert as a person reads it in a chat: a head line (state, severity, rule, the message),
 * a line of facts (session, label, agent, value against threshold, host, gateway) and what
 * clawpulse did about it. One renderer, three styles: Markdown (Mattermost, Discord), Slack's
 * mrkdwn (its own bold and its three escapes) and plain text (Telegram without parse_mode).
 *
 * `fitAlertText` keeps the text within a destination's documented limit by shortening the
 * message (the head and the facts stay), then cuts hard as a last resort. Lengths are UTF-16
 * code units (string.length), never splitting a surrogate pair: a text within N code units is
 * also within N code points (Mattermost's runes) and N characters (Telegram, Discord).
 */
import type { Alert } from '../alert.js';

export interface TextStyle {
  bold(s: string): string;
  code(s: string): string;
  /** what the destination's markup needs escaped in free text */
  escape(s: string): string;
}

export const markdown: TextStyle = {
  bold: (s) => `**${s}**`,
  code: (s) => `\`${s.replace(/`/g, "'")}\``,
  escape: (s) => s,
};

/** Slack mrkdwn: *bold*, and &, <, > escaped as Slack documents (else <…> becomes a link) */
export const slackMrkdwn: TextStyle = {
  bold: (s) => `*${s}*`,
  code: (s) => `\`${slackEscape(s.replace(/`/g, "'"))}\``,
  escape: slackEscape,
};

export const plainText: TextStyle = { bold: (s) => s, code: (s) => s, escape: (s) => s };

function slackEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const ELLIPSIS = '…';

/** at most `max` UTF-16 code units, a cut marked with …, never half a surrogate pair */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 0) return '';
  let end = max - ELLIPSIS.length;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return text.slice(0, Math.max(0, end)) + ELLIPSIS;
}

function num(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(Math.abs(v) >= 100 ? 0 : 2);
}

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return `${s} s`;
  const m = Math.round(s / 60);
  return m < 90 ? `${m} min` : `${(m / 60).toFixed(1)} h`;
}

/** the first line's words: "FIRING critical · stuck" / "RESOLVED · stuck" */
export function alertTitle(a: Alert): string {
  return a.state === 'resolved' ? `RESOLVED · ${a.rule}` : `FIRING ${a.severity} · ${a.rule}`;
}

function render(a: Alert, style: TextStyle, message: string): string {
  const icon = a.state === 'resolved' ? '✅' : a.severity === 'critical' ? '🔴' : '🟠';
  const lines = [`${icon} ${style.bold(style.escape(alertTitle(a)))}: ${style.escape(message)}`];
  const facts: string[] = [];
  if (a.sessionKey) facts.push(`session ${style.code(a.sessionKey)}`);
  if (a.label) facts.push(`label ${style.escape(a.label)}`);
  if (a.agentId) facts.push(`agent ${style.escape(a.agentId)}`);
  if (a.value !== undefined) {
    const unit = a.unit ? ` ${a.unit}` : '';
    facts.push(
      a.threshold !== undefined
        ? `${num(a.value)}${unit} (threshold ${num(a.threshold)}${unit})`
        : `${num(a.value)}${unit}`,
    );
  }
  if (a.host) facts.push(`host ${style.escape(a.host)}`);
  if (a.gateway) facts.push(`gateway ${style.escape(a.gateway)}`);
  if (a.state === 'resolved' && a.resolvedAt !== undefined)
    facts.push(`lasted ${duration(a.resolvedAt - a.firedAt)}`);
  if (facts.length) lines.push(facts.join(' · '));
  if (a.action) lines.push(`Action: ${style.escape(a.action)}`);
  return lines.join('\n');
}

/** the alert's text in `style`, at most `max` code units: the message gives way first */
export function fitAlertText(a: Alert, style: TextStyle, max: number): string {
  let message = a.message;
  let out = render(a, style, message);
  // escaping can grow the message: shorten it by what is over, at most three times
  for (let i = 0; i < 3 && out.length > max; i++) {
    const over = out.length - max;
    message = clip(message, Math.max(0, message.length - over - 8));
    out = render(a, style, message);
  }
  return clip(out, max);
}
