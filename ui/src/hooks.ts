/** Small React hooks: the live store, a shared ticking clock, the route, the theme. */
import { useCallback, useEffect, useState, useSyncExternalStore } from 'react';
import type { LiveState, LiveStore } from './live.js';

export function useLive(live: LiveStore): LiveState {
  return useSyncExternalStore(live.subscribe, live.get, live.get);
}

// one interval for every ticking elapsed clock on the page
const tickers = new Set<() => void>();
let tickNow = Date.now();
let interval: ReturnType<typeof setInterval> | undefined;
function subscribeTick(fn: () => void): () => void {
  tickers.add(fn);
  if (!interval) {
    interval = setInterval(() => {
      tickNow = Date.now();
      for (const t of tickers) t();
    }, 1000);
  }
  return () => {
    tickers.delete(fn);
    if (!tickers.size && interval) {
      clearInterval(interval);
      interval = undefined;
    }
  };
}
/** browser time, updated once a second */
export function useNow(): number {
  return useSyncExternalStore(
    subscribeTick,
    () => tickNow,
    () => tickNow,
  );
}

function readRoute(): string | undefined {
  const m = /^\/session\/(.+)$/.exec(window.location.pathname);
  if (!m?.[1]) return undefined;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return undefined;
  }
}

/** `/session/<key>` opens a session; anything else is the overview */
export function useRoute(): [string | undefined, (key: string | undefined) => void] {
  const [key, setKey] = useState(readRoute);
  useEffect(() => {
    const on = () => setKey(readRoute());
    window.addEventListener('popstate', on);
    return () => window.removeEventListener('popstate', on);
  }, []);
  // stable: rows are memoised on their props, and a new function each render would defeat that
  const go = useCallback((k: string | undefined) => {
    const path = k ? `/session/${encodeURIComponent(k)}` : '/';
    if (window.location.pathname !== path) window.history.pushState(null, '', path);
    setKey(k);
  }, []);
  return [key, go];
}

export type Theme = 'light' | 'dark';
const THEME_KEY = 'clawpulse-theme';

// one query object for the page's life (a new one per render would re-subscribe every time)
const media =
  typeof window !== 'undefined' && typeof window.matchMedia === 'function'
    ? window.matchMedia('(prefers-color-scheme: dark)')
    : undefined;

function stored(): Theme | undefined {
  const v = window.localStorage.getItem(THEME_KEY);
  return v === 'light' || v === 'dark' ? v : undefined;
}

/** remembers the chosen theme; without a choice follows prefers-color-scheme */
export function useTheme(): [Theme, () => void] {
  const [theme, setTheme] = useState<Theme>(() => stored() ?? (media?.matches ? 'dark' : 'light'));
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);
  useEffect(() => {
    if (!media) return;
    const on = () => {
      if (!stored()) setTheme(media.matches ? 'dark' : 'light');
    };
    media.addEventListener('change', on);
    return () => media.removeEventListener('change', on);
  }, []);
  const toggle = () => {
    const next: Theme = theme === 'dark' ? 'light' : 'dark';
    window.localStorage.setItem(THEME_KEY, next);
    setTheme(next);
  };
  return [theme, toggle];
}
