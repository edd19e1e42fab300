/**
 * Maps statuses to Mattermost theme colours, so the box follows the user's theme (dark or light)
 * instead of hard-coding a palette. Defaults are Mattermost's "Denim" theme.
 */
import type { LiveStatus } from '../../src/render/livestatus-props.js';
import type { MmTheme } from './types.js';

export interface Palette {
  bg: string;
  fg: string;
  dim: string;
  border: string;
  panel: string;
  ok: string;
  warn: string;
  error: string;
  link: string;
  dnd: string;
  buttonBg: string;
  buttonFg: string;
}

const DEFAULTS = {
  centerChannelBg: '#ffffff',
  centerChannelColor: '#3f4350',
  onlineIndicator: '#3db887',
  awayIndicator: '#ffbc1f',
  dndIndicator: '#d24b4e',
  errorTextColor: '#d24b4e',
  linkColor: '#386fe5',
  buttonBg: '#1c58d9',
  buttonColor: '#ffffff',
};

function pick(theme: MmTheme | null | undefined, key: keyof typeof DEFAULTS): string {
  const v = theme?.[key];
  return typeof v === 'string' && v.trim() !== '' ? v : DEFAULTS[key];
}

/** `#rgb`/`#rrggbb` + alpha → rgba(); other colour syntaxes are returned unchanged. */
export function withAlpha(color: string, alpha: number): string {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color.trim());
  if (!m?.[1]) return color;
  let hex = m[1];
  if (hex.length === 3) hex = hex.replace(/./g, (c) => c + c);
  const r = Number.parseInt(hex.slice(0, 2), 16);
  const g = Number.parseInt(hex.slice(2, 4), 16);
  const b = Number.parseInt(hex.slice(4, 6), 16);
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

export function paletteOf(theme: MmTheme | null | undefined): Palette {
  const fg = pick(theme, 'centerChannelColor');
  return {
    bg: pick(theme, 'centerChannelBg'),
    fg,
    dim: withAlpha(fg, 0.64),
    border: withAlpha(fg, 0.16),
    panel: withAlpha(fg, 0.04),
    ok: pick(theme, 'onlineIndicator'),
    warn: pick(theme, 'awayIndicator'),
    error: pick(theme, 'errorTextColor'),
    link: pick(theme, 'linkColor'),
    dnd: pick(theme, 'dndIndicator'),
    buttonBg: pick(theme, 'buttonBg'),
    buttonFg: pick(theme, 'buttonColor'),
  };
}

export function statusColor(p: Palette, status: LiveStatus): string {
  switch (status) {
    case 'active':
      return p.link;
    case 'done':
      return p.ok;
    case 'error':
      return p.error;
    case 'stuck':
      return p.warn;
    case 'interrupted':
      return p.dnd;
    default:
      return p.dim;
  }
}

export const MONO = 'SFMono-Regular, Menlo, Monaco, Consolas, "Liberation Mono", "Courier New", monospace';

/**
 * Components that get no `theme` prop (the panel, the root widget) read the CSS variables the
 * webapp sets on :root from the current theme, with the defaults as fallback.
 */
export function cssPalette(): Palette {
  const v = (name: string, fallback: string) => `var(--${name}, ${fallback})`;
  const rgba = (name: string, fallbackHex: string, a: number) =>
    `rgba(var(--${name}-rgb, ${withAlpha(fallbackHex, 1).slice(5, -4)}), ${a})`;
  const fg = DEFAULTS.centerChannelColor;
  return {
    bg: v('center-channel-bg', DEFAULTS.centerChannelBg),
    fg: v('center-channel-color', fg),
    dim: rgba('center-channel-color', fg, 0.64),
    border: rgba('center-channel-color', fg, 0.16),
    panel: rgba('center-channel-color', fg, 0.04),
    ok: v('online-indicator', DEFAULTS.onlineIndicator),
    warn: v('away-indicator', DEFAULTS.awayIndicator),
    error: v('error-text', DEFAULTS.errorTextColor),
    link: v('link-color', DEFAULTS.linkColor),
    dnd: v('dnd-indicator', DEFAULTS.dndIndicator),
    buttonBg: v('button-bg', DEFAULTS.buttonBg),
    buttonFg: v('button-color', DEFAULTS.buttonColor),
  };
}

/** The theme prop when the host gives one, else the webapp's CSS variables. */
export function paletteFor(theme: MmTheme | null | undefined): Palette {
  return theme && typeof theme === 'object' && Object.keys(theme).length > 0
    ? paletteOf(theme)
    : cssPalette();
}
