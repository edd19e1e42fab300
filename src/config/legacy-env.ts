/**
 * The original Live Status daemon's variable names, where clawpulse's differ. An old name is
 * read only when the new one is unset, so a migrated env file may keep both. Names that are the
 * same in both (MM_TOKEN, MM_URL, PID_FILE, TRANSCRIPT_DIR, SESSIONS_JSON, THROTTLE_MS, …) need
 * nothing here.
 */
export const LEGACY_ENV_NAMES: Readonly<Record<string, string>> = {
  // Live Status v4 (hooks/status-watcher-hook, its systemd unit and /etc/status-watcher.env)
  MM_BOT_TOKEN: 'MM_TOKEN',
  MM_BASE_URL: 'MM_URL',
  // Live Status v1 CLI (`live-status --channel`): the channel status went to
  MM_CHANNEL_ID: 'DEFAULT_CHANNEL',
};

/** env with each legacy name copied to its clawpulse name when that one is unset */
export function withLegacyNames(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  let out: NodeJS.ProcessEnv | undefined;
  for (const [old, name] of Object.entries(LEGACY_ENV_NAMES)) {
    const v = env[old];
    if (v === undefined || v === '' || (env[name] !== undefined && env[name] !== '')) continue;
    out ??= { ...env };
    out[name] = v;
  }
  return out ?? env;
}
