/**
 * A stand-in for the Mattermost webapp, bundled for the test page: it exposes React/ReactDOM as
 * globals, defines `window.registerPlugin`, hands the plugin a fake registry and a Redux-like
 * store, and renders what the plugin registered (posts, RHS, header buttons, root components).
 * Tests drive it through `window.__host`.
 */
import * as React from 'react';
import * as ReactDOM from 'react-dom';
import { createRoot } from 'react-dom/client';
import { ManualClock } from '../../src/infra/clock.js';
import type { MmPost, MmState, MmWebSocketMessage } from '../src/types.js';

type AnyComponent = React.ComponentType<any>;

interface HostState extends MmState {
  entities: {
    posts: { posts: Record<string, MmPost> };
    channels: { currentChannelId: string };
    teams: {
      currentTeamId: string;
      teams: Record<string, { name: string }>;
      myMembers: Record<string, object>;
    };
  };
  views: { rhs: { pluginOpen: boolean } };
}

const DARK = {
  centerChannelBg: '#1e1e2e',
  centerChannelColor: '#dddddd',
  onlineIndicator: '#06d6a0',
  awayIndicator: '#f5ab00',
  dndIndicator: '#e81023',
  errorTextColor: '#ff6b6b',
  linkColor: '#5d9cec',
  buttonBg: '#4cbba4',
  buttonColor: '#ffffff',
};

// `?theme=light` on the page URL: Mattermost's default light theme (Denim)
const LIGHT = {
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
export const THEME = new URLSearchParams(location.search).get('theme') === 'light' ? LIGHT : DARK;

const w = window as unknown as Record<string, unknown>;
w.React = React;
w.ReactDOM = ReactDOM;

// The webapp sets theme colours as CSS variables (with -rgb twins); components without a theme
// prop read them.
const cssVar = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const rootStyle = document.documentElement.style;
for (const [k, v] of Object.entries(THEME)) {
  const name = k === 'errorTextColor' ? 'error-text' : cssVar(k);
  rootStyle.setProperty(`--${name}`, v);
  const n = Number.parseInt(v.slice(1), 16);
  rootStyle.setProperty(`--${name}-rgb`, `${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}`);
}

const clock = new ManualClock(Date.UTC(2026, 10, 21, 12, 0, 0));
// the fake Mattermost's default team, and a second team of the user
const TEAM = 'faketeamaaaaaaaaaaaaaaaaaa';
const TEAM2 = 'secondteamaaaaaaaaaaaaaaaa';
const TOGGLE_RHS = { type: 'TOGGLE_RHS_PLUGIN', pluginId: 'x' };

let state: HostState = {
  entities: {
    posts: { posts: {} },
    channels: { currentChannelId: 'chanaaaaaaaaaaaaaaaaaaaaaa' },
    teams: {
      currentTeamId: TEAM,
      teams: { [TEAM]: { name: 'acme' }, [TEAM2]: { name: 'labs' } },
      myMembers: { [TEAM]: {}, [TEAM2]: {} },
    },
  },
  views: { rhs: { pluginOpen: false } },
};
const listeners = new Set<() => void>();
const store = {
  getState: () => state,
  subscribe(fn: () => void) {
    listeners.add(fn);
    return () => listeners.delete(fn);
  },
  dispatch(action: { type?: string; post?: MmPost; channelId?: string }) {
    if (action === TOGGLE_RHS || action?.type === 'TOGGLE_RHS_PLUGIN') {
      state = { ...state, views: { rhs: { pluginOpen: !state.views.rhs.pluginOpen } } };
    } else if (action?.type === 'RECEIVED_POST' && action.post) {
      const posts = { ...state.entities.posts.posts, [action.post.id]: action.post };
      state = { ...state, entities: { ...state.entities, posts: { posts } } };
    } else if (action?.type === 'SELECT_CHANNEL' && action.channelId) {
      state = { ...state, entities: { ...state.entities, channels: { currentChannelId: action.channelId } } };
    }
    for (const l of [...listeners]) l();
    return action;
  },
};

const reg = {
  postTypes: {} as Record<string, AnyComponent>,
  rhs: null as null | { component: AnyComponent; title: React.ReactNode },
  roots: [] as AnyComponent[],
  ws: {} as Record<string, (m: MmWebSocketMessage) => void>,
  reconnect: [] as Array<() => void>,
  headerButtons: [] as Array<{ action: () => void; text: string }>,
  appBar: [] as Array<{ iconUrl: string; action: () => void; tooltip: string }>,
};
const registry = {
  registerPostTypeComponent(type: string, c: AnyComponent) {
    reg.postTypes[type] = c;
    return 'pt1';
  },
  registerRightHandSidebarComponent(component: AnyComponent, title: React.ReactNode) {
    reg.rhs = { component, title };
    return { id: 'rhs1', showRHSPlugin: {}, hideRHSPlugin: {}, toggleRHSPlugin: TOGGLE_RHS };
  },
  registerRootComponent(c: AnyComponent) {
    reg.roots.push(c);
    return 'root1';
  },
  registerWebSocketEventHandler(event: string, handler: (m: MmWebSocketMessage) => void) {
    reg.ws[event] = handler;
  },
  unregisterWebSocketEventHandler(event: string) {
    delete reg.ws[event];
  },
  registerReconnectHandler(handler: () => void) {
    reg.reconnect.push(handler);
  },
  registerChannelHeaderButtonAction(_icon: React.ReactNode, action: () => void, text: string) {
    reg.headerButtons.push({ action, text });
  },
  registerAppBarComponent(iconUrl: string, action: () => void, tooltip: string) {
    reg.appBar.push({ iconUrl, action, tooltip });
  },
};

/**
 * The registry as each server version's webapp shapes it (`?mm=<profile>` on the page URL):
 * - `10` (default) / `9.0` / `7.0`: every call the plugin uses. registerAppBarComponent exists
 *   since the App Bar (6.7; shown by default from 9.0), so 7.0 has it too.
 * - `6.0`: below our minimum, no App Bar: the plugin must register everything else.
 * - `trimmed`: only the post type and WebSocket handlers, and an RHS call that throws: the
 *   plugin must still render its posts.
 */
const profile = new URLSearchParams(location.search).get('mm') ?? '10';
const without: Record<string, string[]> = {
  '10': [],
  '9.0': [],
  '7.0': [],
  '6.0': ['registerAppBarComponent'],
  trimmed: [
    'registerAppBarComponent',
    'registerChannelHeaderButtonAction',
    'registerRootComponent',
    'registerReconnectHandler',
    'unregisterWebSocketEventHandler',
  ],
};
const shaped: Record<string, unknown> = { ...registry };
for (const k of without[profile] ?? []) delete shaped[k];
if (profile === 'trimmed')
  shaped.registerRightHandSidebarComponent = () => {
    throw new Error('RHS not available');
  };

const plugins: Record<string, { initialize(r: unknown, s: unknown): void; capabilities?: unknown }> = {};
w.registerPlugin = (id: string, plugin: { initialize(r: unknown, s: unknown): void }) => {
  plugins[id] = plugin;
  plugin.initialize(shaped, store);
};
const navigations: string[] = [];
w.WebappUtils = { browserHistory: { push: (p: string) => navigations.push(p) } };

function useHostState(): HostState {
  return React.useSyncExternalStore(store.subscribe, store.getState);
}

function App() {
  const s = useHostState();
  const channel = s.entities.channels.currentChannelId;
  const posts = Object.values(s.entities.posts.posts)
    .filter((p) => p.channel_id === channel)
    .sort((a, b) => (a.create_at ?? 0) - (b.create_at ?? 0));
  const Rhs = reg.rhs?.component;
  return (
    <>
      <div
        data-testid="host-header"
        style={{ padding: 8, borderBottom: '1px solid #444', display: 'flex', gap: 8 }}
      >
        <b>~town-square</b>
        {reg.headerButtons.map((b) => (
          <button key={b.text} type="button" data-testid="host-header-button" onClick={b.action}>
            {b.text}
          </button>
        ))}
      </div>
      <div style={{ display: 'flex', flex: 1, minHeight: 0 }}>
        <div data-testid="host-center" style={{ flex: 1, padding: 16, overflowY: 'auto' }}>
          {posts.map((p) => {
            const C = p.type ? reg.postTypes[p.type] : undefined;
            return (
              <div key={p.id} data-testid="host-post" data-post-id={p.id} style={{ marginBottom: 16 }}>
                <div style={{ fontWeight: 700, marginBottom: 4 }}>clawpulse-bot</div>
                {C ? <C post={p} theme={THEME} clock={clock} /> : <div>{p.message}</div>}
              </div>
            );
          })}
        </div>
        {s.views.rhs.pluginOpen && Rhs ? (
          <div data-testid="host-rhs" style={{ width: 360, borderLeft: '1px solid #444' }}>
            <div style={{ padding: 8, fontWeight: 700 }}>{reg.rhs?.title}</div>
            <Rhs clock={clock} />
          </div>
        ) : null}
      </div>
      {reg.roots.map((C, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: registration order is fixed
        <C key={i} clock={clock} />
      ))}
    </>
  );
}

function emit(event: string, post: MmPost) {
  reg.ws[event]?.({
    event,
    data: { post: JSON.stringify(post) },
    broadcast: { channel_id: post.channel_id },
    seq: 1,
  });
}

w.__host = {
  start() {
    createRoot(document.getElementById('app') as HTMLElement).render(<App />);
  },
  /** the webapp path: Redux gets the post and plugins get the WebSocket event */
  post(post: MmPost, event: 'posted' | 'post_edited' = 'posted') {
    store.dispatch({ type: 'RECEIVED_POST', post });
    emit(event, post);
  },
  /** an event for a channel the user is not viewing: only the WebSocket handler sees it */
  wsOnly(post: MmPost, event = 'posted') {
    emit(event, post);
  },
  rawWs(event: string, data: Record<string, unknown>) {
    reg.ws[event]?.({ event, data });
  },
  reconnect() {
    for (const fn of reg.reconnect) fn();
  },
  selectChannel(channelId: string) {
    store.dispatch({ type: 'SELECT_CHANNEL', channelId });
  },
  advance(ms: number) {
    clock.advance(ms);
  },
  now: () => clock.now(),
  registrations: () => ({
    plugins: Object.keys(plugins),
    postTypes: Object.keys(reg.postTypes),
    rhsTitle: typeof reg.rhs?.title === 'string' ? reg.rhs.title : null,
    roots: reg.roots.length,
    ws: Object.keys(reg.ws).sort(),
    headerButtons: reg.headerButtons.map((b) => b.text),
    appBar: reg.appBar.map((a) => a.tooltip),
  }),
  navigations,
  profile,
  capabilities: () => Object.values(plugins)[0]?.capabilities,
};
