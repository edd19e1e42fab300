/**
 * Status box records in the EventStore kv (namespace `mattermost`, key `box:<root key>`):
 * the post id, pending_post_id, channel/thread and turn of each root session's box, so a
 * restarted daemon edits the same posts and never duplicates them.
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
  save(rec: BoxRecord): void;
  /** forgets records of boxes finished before `cutoff` (and unreadable ones) */
  prune(cutoff: number): number;
}

export function createBoxRecords(store: EventStore, logger: Logger): BoxRecords {
  return {
    load(rootKey) {
      try {
        const raw = store.kvGet(KV, `box:${rootKey}`);
        const rec = raw ? (JSON.parse(raw) as BoxRecord) : undefined;
        return rec && rec.v === 1 && typeof rec.channelId === 'string' ? rec : undefined;
      } catch (err) {
        logger.warn({ err, rootKey }, 'unreadable stored status box record; starting a new box');
        return undefined;
      }
    },
    save(rec) {
      try {
        store.kvSet(KV, `box:${rec.rootKey}`, JSON.stringify(rec));
      } catch (err) {
        logger.error({ err, rootKey: rec.rootKey }, 'could not save the status box post id');
      }
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
          const old =
            typeof rec?.createdAt === 'number' &&
            rec.createdAt < cutoff &&
            rec.lastStatus &&
            FINISHED.has(rec.lastStatus);
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
