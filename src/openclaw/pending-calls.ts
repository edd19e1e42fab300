/**
 * The tool calls of a transcript still waiting for their result, by (run id, call id): call ids
 * repeat across runs in real transcripts.
 */

/** open tool calls a session keeps at most (the oldest are dropped) */
export const MAX_PENDING = 256;

export interface PendingCall {
  runId: string;
  callId: string;
  name: string;
  ts: number;
  label?: string;
}

/**
 * Open tool calls, oldest first: what a Map on `${runId}\n${callId}` would hold, kept as a short
 * array (a session has a few calls open; MAX_PENDING bounds it) because building and hashing
 * that key for every call and result cost as much as the rest of normalizing the result.
 */
export class PendingCalls {
  readonly calls: PendingCall[] = [];

  /** index of the call with this key (keys are unique), or -1; a result usually answers a recent call */
  indexOf(runId: string, callId: string): number {
    const calls = this.calls;
    for (let i = calls.length - 1; i >= 0; i--) if (sameKey(calls[i] as PendingCall, runId, callId)) return i;
    return -1;
  }

  get(runId: string, callId: string): PendingCall | undefined {
    const i = this.indexOf(runId, callId);
    return i < 0 ? undefined : this.calls[i];
  }

  /** like Map.set: a call with the same key is replaced where it is */
  set(call: PendingCall): void {
    const i = this.indexOf(call.runId, call.callId);
    if (i < 0) this.calls.push(call);
    else this.calls[i] = call;
  }

  /** drops the oldest calls beyond `max` */
  keepNewest(max: number): void {
    if (this.calls.length > max) this.calls.splice(0, this.calls.length - max);
  }

  delete(runId: string, callId: string): void {
    const i = this.indexOf(runId, callId);
    if (i >= 0) this.calls.splice(i, 1);
  }

  /** the last call (in call order) with this call id, of any run */
  lastWithCallId(callId: string): PendingCall | undefined {
    for (let i = this.calls.length - 1; i >= 0; i--)
      if (this.calls[i]?.callId === callId) return this.calls[i];
    return undefined;
  }
}

/** whether `${p.runId}\n${p.callId}` === `${runId}\n${callId}`, mostly without building them */
function sameKey(p: PendingCall, runId: string, callId: string): boolean {
  if (p.runId.length === runId.length) return p.callId === callId && p.runId === runId;
  // ids of other lengths join to the same key only when a newline in them lines them up
  return (
    p.runId.length + p.callId.length === runId.length + callId.length &&
    `${p.runId}\n${p.callId}` === `${runId}\n${callId}`
  );
}
