/**
 * The plugin's time source. Components take an optional `clock` prop (the Mattermost host never
 * passes one, so they use the browser clock); tests pass a manual clock and move time themselves.
 */
import type { Clock } from '../../src/infra/clock.js';

export type { Clock };

export const browserClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => window.setTimeout(fn, ms),
  clearTimeout: (h) => window.clearTimeout(h as number),
};
