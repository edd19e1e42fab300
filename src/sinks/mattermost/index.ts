/** The Mattermost status-box sink: what the daemon wires. */

export { MattermostError } from './client.js';
export { PLUGIN_ID } from './plugin-mode.js';
export {
  createMattermostSink,
  DEFAULT_MAX_POST_SIZE,
  type MattermostConfig,
  type MattermostSink,
  type MattermostSinkDeps,
  type MattermostSinkHealth,
} from './sink.js';
