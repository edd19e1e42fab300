/**
 * Hands the connection's event frames to its listeners. A listener may name the frames it never
 * wants (`skip`, a look at the raw text); when every listener skips a frame it is dropped before
 * JSON.parse, which is what keeps the gateway source fast (ticks, health, presence and most task
 * updates are a third of a busy gateway's frames). A listener that throws costs only that frame.
 */
import type { Logger } from '../infra/logger.js';
import type { EventFrame } from '../openclaw/gateway/frames.js';

export type EventListener = (frame: EventFrame, rawText: string) => void;

export interface EventListenOptions {
  /** true for frames this listener would ignore anyway; called on the raw text before parsing */
  skip?: (text: string) => boolean;
}

interface Entry {
  fn: EventListener;
  skip?: (text: string) => boolean;
}

export interface EventFanout {
  /** undefined unless every listener has a skip: then a frame all of them skip is never parsed */
  skip: ((text: string) => boolean) | undefined;
  deliver(f: EventFrame, text: string): void;
  add(fn: EventListener, o?: EventListenOptions): () => void;
}

export function createEventFanout(log: Logger, counters: { malformed: number }): EventFanout {
  // replaced, never mutated: a listener that unsubscribes during delivery does not upset the loop
  let listeners: Entry[] = [];

  const fanout: EventFanout = {
    skip: undefined,
    deliver(f, text) {
      // with a single listener its skip already said no before the parse
      const recheck = listeners.length > 1;
      for (const l of listeners) {
        if (recheck && l.skip?.(text)) continue;
        try {
          l.fn(f, text);
        } catch (err) {
          counters.malformed++;
          log.warn({ err, event: f.event }, 'could not handle a gateway frame; skipped');
        }
      }
    },
    add(fn, o) {
      const entry: Entry = o?.skip ? { fn, skip: o.skip } : { fn };
      listeners = [...listeners, entry];
      update();
      return () => {
        listeners = listeners.filter((l) => l !== entry);
        update();
      };
    },
  };

  function update(): void {
    const skips = listeners.map((l) => l.skip);
    if (!skips.length || skips.some((s) => !s)) fanout.skip = undefined;
    else if (skips.length === 1) fanout.skip = skips[0];
    else {
      const all = skips as Array<(text: string) => boolean>;
      fanout.skip = (text) => all.every((s) => s(text));
    }
  }

  return fanout;
}
