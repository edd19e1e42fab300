/**
 * Status box records in the EventStore kv (namespace `mattermost`): what a restarted daemon
 * needs to edit the same posts, never duplicate them, and bring every box it ever opened to a
 * final state.
 *
 * - `box:<root key>`: the record of the root session's current turn.
 * - `open:<root key>:<turn>`: an earlier turn whose box has not shown its final state yet (a
 *   new turn began first). Deleted once that box is closed.
 *
 * A record is written before its post is created (the intent, with the `pending_post_id` the
 * create will carry), again with the post id once the server answered, on every status
 * change (with the final content when the status is final) and when the final state reached
 * the server (`closed`). kv writes commit the store's open group first, so the events a record
 * speaks of are on disk before it is.
 */
import type { Logger } from '../../infra/logger.js';
import type { SessionStatus } from '../../model/session.js';
import type { EventStore } from '../../store/event-store.js';
import type { BoxRecord } from './box.js';

const KV = 'mattermost';
/** finished box records older than this are forgotten at start */
export const RECORD_TTL_MS = 7 * 24 * 3600_000;
export const FINISHED: ReadonlySet<SessionStatus> = new Set(['done', 'error', 'interrupted']);
const LIVE: ReadonlySet<SessionStatus> = new Set(['active', 'idle', 'stuck']);

/** a session that comes back after done/error starts a new turn, hence a new post */
export const isNewTurn = (last: SessionStatus | undefined, now: SessionStatus): boolean =>
  (last === 'done' || last === 'error') && LIVE.has(now);

export interface BoxRecords {
  load(rootKey: string): BoxRecord | undefined;
  /** writes the record where it belongs: `box:` when it is the root's newest turn, else `open:` */
  save(rec: BoxRecord): void;
  /** every record whose box has not been closed (current and earlier turns) */
  unclosed(): BoxRecord[];
  /** forgets closed records older than `cutoff`, unreadable ones, and open ones far older */
  prune(cutoff: number): number;
}

const currentKey = (rootKey: string) => `box:${rootKey}`;
const openKey = (rootKey: string, turn: number) => `open:${rootKey}:${turn}`;

function parse(raw: string | undefined): BoxRecord | undefined {
  if (!raw) return undefined;
  const rec = JSON.parse(raw) as BoxRecord;
  return rec && rec.v === 1 && typeof rec.channelId === 'string' && typeof rec.rootKey === 'string'
    ? rec
    : undefined;
}

export function createBoxRecords(store: EventStore, logger: Logger): BoxRecords {
  function load(rootKey: string): BoxRecord | undefined {
    try {
      return parse(store.kvGet(KV, currentKey(rootKey)));
    } catch (err) {
      logger.warn({ err, rootKey }, 'unreadable stored status box record; starting a new box');
      return undefined;
    }
  }

  return {
    load,
    save(rec) {
      try {
        const cur = load(rec.rootKey);
        if (!cur || rec.turn >= cur.turn) {
          // a newer turn takes the current slot: an earlier box not closed yet stays findable
          if (cur && cur.turn !== rec.turn && !cur.closed)
            store.kvSet(KV, openKey(cur.rootKey, cur.turn), JSON.stringify(cur));
          store.kvSet(KV, currentKey(rec.rootKey), JSON.stringify(rec));
        } else if (rec.closed) store.kvDelete(KV, openKey(rec.rootKey, rec.turn));
        else store.kvSet(KV, openKey(rec.rootKey, rec.turn), JSON.stringify(rec));
      } catch (err) {
        logger.error({ err, rootKey: rec.rootKey }, 'could not save the status box record');
      }
    },
    unclosed() {
      const out: BoxRecord[] = [];
      try {
        for (const { key, value } of store.kvList(KV)) {
          if (!key.startsWith('box:') && !key.startsWith('open:')) continue;
          try {
            const rec = parse(value);
            // a final status with no kept content: a record of an earlier version, whose final
            // state went out as that version did it
            const legacy = rec?.lastStatus !== undefined && FINISHED.has(rec.lastStatus) && !rec.final;
            if (rec && !rec.closed && !legacy) out.push(rec);
          } catch {
            // pruned at start
          }
        }
      } catch (err) {
        logger.warn({ err }, 'could not list the status box records');
      }
      return out;
    },
    prune(cutoff) {
      let n = 0;
      try {
        for (const { key, value } of store.kvList(KV)) {
          let rec: Partial<BoxRecord> | undefined;
          try {
            rec = JSON.parse(value) as Partial<BoxRecord>;
          } catch {
            rec = undefined;
          }
          const created = typeof rec?.createdAt === 'number' ? rec.createdAt : 0;
          const finished = Boolean(rec?.closed) || Boolean(rec?.lastStatus && FINISHED.has(rec.lastStatus));
          // an open box a week old is given up on after another week
          const old = created < cutoff && (finished || created < cutoff - RECORD_TTL_MS);
          if (!rec || old) {
            store.kvDelete(KV, key);
            n++;
          }
        }
      } catch (err) {
        logger.warn({ err }, 'could not prune old status box records');
      }
      return n;
    },
  };
}
