/**
 * Test kit: an in-memory GatewayCaller that records each request and answers with the handler
 * the test gave for its method (an unknown method is refused as the real gateway does).
 */
import type { GatewayCaller } from '../../src/dispatch/gateway-ops.js';

export class FakeCallError extends Error {
  constructor(
    public readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export type FakeHandler = (params: Record<string, unknown>) => unknown;

export function fakeGatewayCaller(handlers: Record<string, FakeHandler>, methods?: string[]) {
  const calls: Array<{ method: string; params: Record<string, unknown> }> = [];
  const caller: GatewayCaller = {
    async request<T>(method: string, params: unknown): Promise<T> {
      const p = (params ?? {}) as Record<string, unknown>;
      calls.push({ method, params: p });
      const h = handlers[method];
      if (!h) throw new FakeCallError('INVALID_REQUEST', `unknown method ${method}`);
      return (await h(p)) as T;
    },
    hasMethod: (m) => (methods ? methods.includes(m) : undefined),
  };
  return { caller, calls, of: (m: string) => calls.filter((c) => c.method === m) };
}
