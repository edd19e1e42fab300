/** React hooks over the host's Redux store, the plugin cache and the injected clock. */
import * as React from 'react';
import type { Clock } from './clock.js';
import type { PluginDeps } from './deps.js';
import { collectSessions, type SessionSummary } from './sessions.js';
import type { MmState } from './types.js';

function safeState(deps: PluginDeps): MmState {
  try {
    return deps.store.getState() ?? {};
  } catch {
    return {};
  }
}

/**
 * `useSyncExternalStore` without requiring React 18: older Mattermost webapps ship React 17, and
 * the plugin uses whatever React the host provides. Re-renders only when the snapshot changes.
 */
function useExternal<T>(subscribe: (fn: () => void) => () => void, getSnapshot: () => T): T {
  const [, force] = React.useReducer((n: number) => n + 1, 0);
  const value = getSnapshot();
  const last = React.useRef(value);
  last.current = value;
  const read = React.useRef(getSnapshot);
  read.current = getSnapshot;
  React.useEffect(() => {
    const check = () => {
      if (!Object.is(read.current(), last.current)) force();
    };
    const unsubscribe = subscribe(check);
    check(); // a change between render and subscribe must not be lost
    return unsubscribe;
  }, [subscribe]);
  return value;
}

/** Subscribes to a selector of the Redux state (no react-redux needed: the store is in deps). */
export function useStoreValue<T>(deps: PluginDeps, select: (s: MmState) => T): T {
  const subscribe = React.useCallback((fn: () => void) => deps.store.subscribe(fn), [deps]);
  return useExternal(subscribe, () => select(safeState(deps)));
}

/** How many times the WebSocket reconnected (a reload trigger). */
export function useReconnects(deps: PluginDeps): number {
  const subscribe = React.useCallback((fn: () => void) => deps.cache.subscribe(fn), [deps]);
  return useExternal(subscribe, () => deps.cache.reconnects());
}

/** All known sessions; recomputed only when Redux posts or the cache change. */
export function useSessions(deps: PluginDeps): SessionSummary[] {
  const memo = React.useRef<{ posts: unknown; ver: number; value: SessionSummary[] } | null>(null);
  const subscribe = React.useCallback(
    (fn: () => void) => {
      const a = deps.store.subscribe(fn);
      const b = deps.cache.subscribe(fn);
      return () => {
        a();
        b();
      };
    },
    [deps],
  );
  const getSnapshot = () => {
    const state = safeState(deps);
    const posts = state.entities?.posts?.posts;
    const ver = deps.cache.version();
    const m = memo.current;
    if (m && m.posts === posts && m.ver === ver) return m.value;
    const value = collectSessions(state, deps.cache);
    memo.current = { posts, ver, value };
    return value;
  };
  return useExternal(subscribe, getSnapshot);
}

/** The clock's time, refreshed every `everyMs` while `running` (durations of live sessions). */
export function useNow(clock: Clock, everyMs: number, running: boolean): number {
  const [now, setNow] = React.useState(() => clock.now());
  React.useEffect(() => {
    setNow(clock.now());
    if (!running) return;
    let handle: unknown;
    const tick = () => {
      setNow(clock.now());
      handle = clock.setTimeout(tick, everyMs);
    };
    handle = clock.setTimeout(tick, everyMs);
    return () => clock.clearTimeout(handle);
  }, [clock, everyMs, running]);
  return now;
}
