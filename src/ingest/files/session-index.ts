/**
 * Which session a transcript file belongs to, from every sessions.json we have read.
 * Matched by the entry's sessionFile name first (topic files, successor transcripts), then by
 * sessionId. sessionFile paths are absolute on the machine that wrote them, so only the base
 * name is compared (a copied or mounted state dir keeps working).
 */
import path from 'node:path';
import { entryTranscriptName, type SessionsJsonEntry } from '../../openclaw/sessions-json.js';

export interface SessionIndex {
  /** replaces the entries that came from one sessions.json; returns entries whose updatedAt changed */
  update(storePath: string, entries: readonly SessionsJsonEntry[]): SessionsJsonEntry[];
  lookup(transcriptPath: string, sessionId: string): SessionsJsonEntry | undefined;
  size(): number;
}

export function createSessionIndex(): SessionIndex {
  const byStore = new Map<string, SessionsJsonEntry[]>();
  let byFile = new Map<string, SessionsJsonEntry>();
  let byId = new Map<string, SessionsJsonEntry>();
  /** sessionKey → updatedAt|sessionId last reported, so only changes are emitted */
  const seen = new Map<string, string>();

  function rebuild(): void {
    byFile = new Map();
    byId = new Map();
    for (const list of byStore.values()) {
      for (const e of list) {
        byFile.set(entryTranscriptName(e), e);
        byId.set(e.sessionId, e);
      }
    }
  }

  return {
    update(storePath, entries) {
      byStore.set(path.resolve(storePath), [...entries]);
      rebuild();
      const changed: SessionsJsonEntry[] = [];
      for (const e of entries) {
        const mark = `${e.sessionId}|${e.updatedAt ?? ''}`;
        if (seen.get(e.sessionKey) === mark) continue;
        seen.set(e.sessionKey, mark);
        changed.push(e);
      }
      return changed;
    },
    lookup(transcriptPath, sessionId) {
      return byFile.get(path.basename(transcriptPath)) ?? byId.get(sessionId);
    },
    size: () => byId.size,
  };
}
