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

/** Subscribes to a selector of the Redux state (no react-redux needed: the store is in deps). */
export function useStoreValue<T>(deps: PluginDeps, select: (s: MmState) => T): T {
  const subscribe = React.useCallback((fn: () => void) => deps.store.subscribe(fn), [deps]);
  return React.useSyncExternalStore(subscribe, () => select(safeState(deps)));
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
  return React.useSyncExternalStore(subscribe, getSnapshot);
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
