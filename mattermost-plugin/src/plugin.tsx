/**
 * Wires the plugin into the webapp: the post type, the right-hand panel with its header and
 * app-bar buttons, the floating widget, and WebSocket handlers feeding the session cache.
 */
// biome-ignore lint/correctness/noUnusedImports: the classic JSX transform (vite.config.ts) needs React in scope
import * as React from 'react';
import { LIVESTATUS_POST_TYPE } from '../../src/render/livestatus-props.js';
import { type FetchLike, siteBase } from './api.js';
import { browserClock, type Clock } from './clock.js';
import { createOpenPost, type PluginDeps } from './deps.js';
import { FloatingWidget, type FloatingWidgetProps } from './FloatingWidget.js';
import { LiveStatusPost } from './LiveStatusPost.js';
import { RhsPanel, type RhsPanelProps } from './RhsPanel.js';
import { createPostCache, type PostCache } from './sessions.js';
import type { MmRegistry, MmStore, MmWebSocketMessage } from './types.js';
import { parseWsPost } from './validate.js';

export const PLUGIN_ID = 'com.clawpulse.livestatus';
export const RHS_TITLE = 'Agent sessions';

const ICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="18" height="18" fill="none" ' +
  'stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">' +
  '<polyline points="2 12 6 12 9 4 15 20 18 12 22 12"/></svg>';
const ICON_URL = `data:image/svg+xml;utf8,${encodeURIComponent(ICON_SVG.replace('currentColor', '#1c58d9'))}`;

function HeaderIcon() {
  return (
    <span className="icon">
      <svg
        viewBox="0 0 24 24"
        width="18"
        height="18"
        fill="none"
        stroke="currentColor"
        strokeWidth="2"
        strokeLinecap="round"
        strokeLinejoin="round"
      >
        <title>Agent sessions</title>
        <polyline points="2 12 6 12 9 4 15 20 18 12 22 12" />
      </svg>
    </span>
  );
}

export interface PluginOptions {
  fetch?: FetchLike;
  clock?: Clock;
  cache?: PostCache;
}

export class LiveStatusPlugin {
  /** counts of bad WebSocket payloads, for debugging from the console */
  readonly stats = { badFrames: 0 };
  private deps: PluginDeps | null = null;
  private registry: MmRegistry | null = null;

  constructor(private readonly options: PluginOptions = {}) {}

  initialize(registry: MmRegistry, store: MmStore): void {
    this.registry = registry;
    const deps: PluginDeps = {
      store,
      cache: this.options.cache ?? createPostCache(),
      fetch: this.options.fetch ?? ((url, init) => window.fetch(url, init)),
      clock: this.options.clock ?? browserClock,
      openPost: createOpenPost(store, siteBase),
    };
    this.deps = deps;

    registry.registerPostTypeComponent(LIVESTATUS_POST_TYPE, LiveStatusPost);
    // The host renders these without our deps, so thin wrappers bind them (no hooks in here).
    const Rhs = (props: Omit<RhsPanelProps, 'deps'>) => <RhsPanel {...props} deps={deps} />;
    const Widget = (props: Omit<FloatingWidgetProps, 'deps'>) => <FloatingWidget {...props} deps={deps} />;
    const rhs = registry.registerRightHandSidebarComponent(Rhs, RHS_TITLE);
    const toggle = () => {
      if (rhs?.toggleRHSPlugin) store.dispatch(rhs.toggleRHSPlugin);
    };
    registry.registerChannelHeaderButtonAction?.(
      <HeaderIcon />,
      toggle,
      RHS_TITLE,
      'Show running agent sessions',
    );
    registry.registerAppBarComponent?.(ICON_URL, toggle, 'Agent sessions');
    registry.registerRootComponent(Widget);

    const onPost = (msg: MmWebSocketMessage) => this.onPostEvent(msg);
    registry.registerWebSocketEventHandler('posted', onPost);
    registry.registerWebSocketEventHandler('post_edited', onPost);
    registry.registerReconnectHandler?.(() => deps.cache.markReconnected());
    registry.registerWebSocketEventHandler('post_deleted', (msg) => {
      const post = parseWsPost(msg?.data?.post);
      if (post) deps.cache.remove(post.id);
      else this.stats.badFrames++;
    });
  }

  /** Keeps posts from every channel the user is in, so the widget sees activity everywhere. */
  private onPostEvent(msg: MmWebSocketMessage): void {
    const post = parseWsPost(msg?.data?.post);
    if (!post) {
      this.stats.badFrames++;
      return;
    }
    if (post.type === LIVESTATUS_POST_TYPE) this.deps?.cache.upsert(post);
  }

  uninitialize(): void {
    for (const ev of ['posted', 'post_edited', 'post_deleted'])
      this.registry?.unregisterWebSocketEventHandler?.(ev);
    this.registry = null;
    this.deps = null;
  }
}
