/** Bundle entry: Mattermost defines `window.registerPlugin` before loading plugin bundles. */
import { LiveStatusPlugin, PLUGIN_ID } from './plugin.js';

declare global {
  interface Window {
    registerPlugin?(id: string, plugin: unknown): void;
  }
}

if (typeof window.registerPlugin === 'function') {
  window.registerPlugin(PLUGIN_ID, new LiveStatusPlugin());
} else {
  console.warn(`[${PLUGIN_ID}] window.registerPlugin is missing: not running inside Mattermost`);
}
