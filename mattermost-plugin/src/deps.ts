/** What the components need from the outside world, passed in by `initialize` (tests swap any). */
import type { FetchLike } from './api.js';
import type { Clock } from './clock.js';
import type { PostCache } from './sessions.js';
import type { MmState, MmStore } from './types.js';

export interface PluginDeps {
  store: MmStore;
  cache: PostCache;
  fetch: FetchLike;
  clock: Clock;
  /** opens a post (permalink) */
  openPost(postId: string): void;
}

export function permalinkPath(state: MmState, postId: string): string {
  const teams = state.entities?.teams;
  const teamId = teams?.currentTeamId ?? '';
  const name = teams?.teams?.[teamId]?.name;
  return name ? `/${name}/pl/${postId}` : `/_redirect/pl/${postId}`;
}

/**
 * Navigates inside the single-page app when the webapp exposes its history
 * (`window.WebappUtils.browserHistory`), otherwise with a full page load.
 */
export function createOpenPost(store: MmStore, base: () => string): (postId: string) => void {
  return (postId) => {
    const path = permalinkPath(store.getState(), postId);
    const history = (globalThis as { WebappUtils?: { browserHistory?: { push?: (p: string) => void } } })
      .WebappUtils?.browserHistory;
    if (typeof history?.push === 'function') history.push(path);
    else window.location.assign(base() + path);
  };
}
