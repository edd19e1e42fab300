/**
 * Doctor: Mattermost. The token (GET /users/me), whether the bot may post in DEFAULT_CHANNEL,
 * the plugin, MaxPostSize.
 *
 * "May post" without posting: a create whose root_id names a post that does not exist. The
 * server checks the create_post permission first (403 when missing, also for a channel the bot
 * cannot see) and only then the thread root (400 channel_root_id / root_id), so a 400 about the
 * root means the bot may post there, and nothing was posted.
 */
import { fileURLToPath } from 'node:url';
import type { Config } from '../../config/config.js';
import {
  createMattermostClient,
  type MattermostClient,
  MattermostError,
} from '../../sinks/mattermost/client.js';
import { PLUGIN_ID, PLUGIN_SECRET_HEADER } from '../../sinks/mattermost/plugin-mode.js';
import { type CheckResult, fail, ok, skip, warn } from './report.js';

const ROOT_ERRORS = new Set([
  'api.post.create_post.channel_root_id.app_error',
  'api.post.create_post.root_id.app_error',
]);

/** a syntactically valid Mattermost id that names no post */
function unusedId(): string {
  const abc = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let i = 0; i < 26; i++) s += abc[Math.floor(Math.random() * abc.length)];
  return s;
}

function why(err: unknown): string {
  if (err instanceof MattermostError)
    return `${err.status || 'no answer'}${err.id ? ` ${err.id}` : ''}: ${err.message}`;
  return (err as Error).message;
}

export function pluginTarball(): string {
  return fileURLToPath(
    new URL('../../../mattermost-plugin/dist/com.clawpulse.livestatus.tar.gz', import.meta.url),
  );
}

export async function checkMattermost(config: Readonly<Config>, timeoutMs = 5000): Promise<CheckResult[]> {
  const mm = config.mattermost;
  if (!mm.url || !mm.token)
    return [skip('Mattermost', 'not configured (MM_URL and MM_TOKEN unset): no status boxes in Mattermost')];
  const client = createMattermostClient({ url: mm.url, token: mm.token, timeoutMs, connections: 1 });
  try {
    const me = await checkToken(client, mm.url);
    if (me.result.status === 'fail') return [me.result];
    return [
      me.result,
      await checkChannel(client, config, me.username),
      await checkPlugin(client, config),
      await checkMaxPostSize(client, config),
    ];
  } finally {
    await client.close();
  }
}

async function checkToken(
  client: MattermostClient,
  url: string,
): Promise<{ result: CheckResult; username?: string }> {
  const name = 'Mattermost';
  try {
    const me = await client.getMe();
    const who = `@${me.username}`;
    if (me.is_bot === false)
      return {
        username: me.username,
        result: warn(
          name,
          `${url}: token accepted, ${who} is a user account, not a bot`,
          'create a bot account (System Console → Integrations → Bot Accounts) and use its token: boxes then show as the bot',
        ),
      };
    return { username: me.username, result: ok(name, `${url}: token accepted (bot ${who})`) };
  } catch (err) {
    const e = err instanceof MattermostError ? err : undefined;
    if (e && (e.status === 401 || e.status === 403))
      return {
        result: fail(
          name,
          `${url} rejected MM_TOKEN (${why(err)})`,
          'set MM_TOKEN to a valid bot access token (System Console → Integrations → Bot Accounts → Create New Token)',
        ),
      };
    if (e && e.status === 404)
      return {
        result: fail(
          name,
          `${url} has no Mattermost API (${why(err)})`,
          'set MM_URL to the server’s base URL, e.g. https://chat.example.com',
        ),
      };
    return {
      result: fail(
        name,
        `${url} not reachable (${why(err)})`,
        'check MM_URL (scheme, host, port) and that this machine can reach it',
      ),
    };
  }
}

async function checkChannel(
  client: MattermostClient,
  config: Readonly<Config>,
  bot?: string,
): Promise<CheckResult> {
  const name = 'Mattermost channel';
  const id = config.mattermost.defaultChannel;
  if (!id)
    return skip(name, 'DEFAULT_CHANNEL unset: boxes only for sessions that came from a Mattermost channel');
  const base = config.mattermost.url as string;
  let label = id;
  // the channel's name, for the report; whether it exists is the create probe's to say
  let hidden = '';
  try {
    const r = await client.probe(`${base}/api/v4/channels/${id}`, {
      authorization: `Bearer ${config.mattermost.token}`,
      accept: 'application/json',
    });
    const ch = r.json as { name?: unknown } | undefined;
    if (r.status === 200 && typeof ch?.name === 'string') label = `${id} (~${ch.name})`;
    else if (r.status === 403 || r.status === 404)
      hidden = ' (the bot cannot see it: a wrong id, or a private channel it is not in)';
  } catch {
    // the create probe below says what matters
  }
  const invite = `check DEFAULT_CHANNEL (channel menu → View Info shows the id), and add the bot to the channel (in it: /invite @${bot ?? 'your-bot'}) and to its team`;
  try {
    const post = await client.createPost({
      channel_id: id,
      root_id: unusedId(),
      message: 'clawpulse doctor: checking that the bot may post here (this should not appear)',
    });
    // a server that skipped the root check posted it: take it back
    await fetch(`${base}/api/v4/posts/${post.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${config.mattermost.token}` },
    }).catch(() => undefined);
    return ok(name, `the bot may post in ${label}`);
  } catch (err) {
    const e = err instanceof MattermostError ? err : undefined;
    if (e && e.status === 400 && ROOT_ERRORS.has(e.id)) return ok(name, `the bot may post in ${label}`);
    if (e && e.status === 403)
      return fail(name, `the bot may not post in ${label}${hidden} (${why(err)})`, invite);
    if (e && (e.status === 404 || (e.status === 400 && e.id === 'api.context.invalid_param.app_error')))
      return fail(
        name,
        `DEFAULT_CHANNEL ${id}: no such channel (${why(err)})`,
        'set DEFAULT_CHANNEL to an existing channel id',
      );
    if (e && e.status === 400 && e.id === 'api.post.create_post.can_not_post_to_deleted.error')
      return fail(name, `${label} is archived`, 'unarchive it, or set DEFAULT_CHANNEL to another channel');
    return warn(name, `could not tell whether the bot may post in ${label} (${why(err)})`, invite);
  }
}

async function checkPlugin(client: MattermostClient, config: Readonly<Config>): Promise<CheckResult> {
  const name = 'Mattermost plugin';
  const mm = config.mattermost;
  if (!mm.pluginEnabled) return skip(name, 'PLUGIN_ENABLED=false: boxes are plain posts edited in place');
  const install = `upload ${pluginTarball()} in System Console → Plugins → Plugin Management and enable it (boxes then render live, without "Edited")`;
  try {
    if (mm.pluginUrl) {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (mm.pluginSecret) headers[PLUGIN_SECRET_HEADER.toLowerCase()] = mm.pluginSecret;
      const r = await client.probe(mm.pluginUrl, headers);
      if (r.status >= 200 && r.status < 300)
        return ok(name, `PLUGIN_URL ${mm.pluginUrl} answered ${r.status}`);
      return warn(
        name,
        `PLUGIN_URL ${mm.pluginUrl} answered ${r.status}: boxes are plain posts`,
        `check PLUGIN_URL and PLUGIN_SECRET, or ${install}`,
      );
    }
    const ids = await client.getWebappPluginIds();
    if (ids.includes(PLUGIN_ID)) return ok(name, `${PLUGIN_ID} installed and enabled`);
    return warn(
      name,
      `${PLUGIN_ID} not installed or not enabled: boxes are plain posts edited in place`,
      install,
    );
  } catch (err) {
    return warn(name, `could not list the enabled plugins (${why(err)})`, install);
  }
}

async function checkMaxPostSize(client: MattermostClient, config: Readonly<Config>): Promise<CheckResult> {
  const name = 'Mattermost MaxPostSize';
  const want = config.mattermost.maxMessageChars;
  try {
    const max = await client.getMaxPostSize();
    if (max === undefined) return ok(name, `not published; boxes are cut at 16383 characters`);
    if (max < want) return ok(name, `${max} characters: boxes are cut there (MAX_MESSAGE_CHARS is ${want})`);
    return ok(name, `${max} characters (boxes use up to MAX_MESSAGE_CHARS=${want})`);
  } catch (err) {
    return warn(
      name,
      `could not read the client config (${why(err)})`,
      'boxes are cut at 16383 characters until it is readable',
    );
  }
}
