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
import type { MmRegistry, MmStore, MmWebSocketMessage, RhsRegistration } from './types.js';
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

/**
 * What the host registry let us register. Every call but the post type is optional: an older
 * (or trimmed) webapp lacks some (registerAppBarComponent arrived with the App Bar in 6.7;
 * registerReconnectHandler, unregisterWebSocketEventHandler and the RHS are older than 7.0 but
 * are still feature-tested), and a call that throws must not take the others down.
 */
export interface Capabilities {
  postType: boolean;
  rhs: boolean;
  channelHeaderButton: boolean;
  appBar: boolean;
  widget: boolean;
  websocket: boolean;
  reconnect: boolean;
  errors: string[];
}

export class LiveStatusPlugin {
  /** counts of bad WebSocket payloads, for debugging from the console */
  readonly stats = { badFrames: 0 };
  readonly capabilities: Capabilities = {
    postType: false,
    rhs: false,
    channelHeaderButton: false,
    appBar: false,
    widget: false,
    websocket: false,
    reconnect: false,
    errors: [],
  };
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

    const caps = this.capabilities;
    const r = registry as Partial<MmRegistry>;
    const attempt = (name: keyof Capabilities, fn: (() => unknown) | false): boolean => {
      if (!fn) return false;
      try {
        fn();
        (caps as unknown as Record<string, boolean>)[name] = true;
        return true;
      } catch (err) {
        caps.errors.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
        return false;
      }
    };
    const has = (k: keyof MmRegistry) => typeof r[k] === 'function';

    attempt(
      'postType',
      has('registerPostTypeComponent') &&
        (() => registry.registerPostTypeComponent(LIVESTATUS_POST_TYPE, LiveStatusPost)),
    );
    // The host renders these without our deps, so thin wrappers bind them (no hooks in here).
    const Rhs = (props: Omit<RhsPanelProps, 'deps'>) => <RhsPanel {...props} deps={deps} />;
    const Widget = (props: Omit<FloatingWidgetProps, 'deps'>) => <FloatingWidget {...props} deps={deps} />;
    let rhs: RhsRegistration | undefined;
    attempt(
      'rhs',
      has('registerRightHandSidebarComponent') &&
        (() => {
          rhs = registry.registerRightHandSidebarComponent(Rhs, RHS_TITLE);
          if (!rhs?.toggleRHSPlugin) throw new Error('no toggleRHSPlugin action returned');
        }),
    );
    if (caps.rhs) {
      const toggle = () => {
        if (rhs?.toggleRHSPlugin) store.dispatch(rhs.toggleRHSPlugin);
      };
      attempt(
        'channelHeaderButton',
        has('registerChannelHeaderButtonAction') &&
          (() =>
            registry.registerChannelHeaderButtonAction?.(
              <HeaderIcon />,
              toggle,
              RHS_TITLE,
              'Show running agent sessions',
            )),
      );
      attempt(
        'appBar',
        has('registerAppBarComponent') &&
          (() => registry.registerAppBarComponent?.(ICON_URL, toggle, 'Agent sessions')),
      );
    }
    attempt('widget', has('registerRootComponent') && (() => registry.registerRootComponent(Widget)));

    const onPost = (msg: MmWebSocketMessage) => this.onPostEvent(msg);
    attempt(
      'websocket',
      has('registerWebSocketEventHandler') &&
        (() => {
          registry.registerWebSocketEventHandler('posted', onPost);
          registry.registerWebSocketEventHandler('post_edited', onPost);
          registry.registerWebSocketEventHandler('post_deleted', (msg) => {
            const post = parseWsPost(msg?.data?.post);
            if (post) deps.cache.remove(post.id);
            else this.stats.badFrames++;
          });
        }),
    );
    attempt(
      'reconnect',
      has('registerReconnectHandler') &&
        (() => registry.registerReconnectHandler?.(() => deps.cache.markReconnected())),
    );
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
