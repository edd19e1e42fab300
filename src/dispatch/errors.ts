/**
 * A dispatch command's refusal or failure: what went wrong, how to fix or override it, and the
 * exit code the original dispatch CLI used (1: refused or failed, 2: bad arguments).
 */
export class DispatchError extends Error {
  constructor(
    message: string,
    public readonly exitCode: 1 | 2 = 1,
    /** which rule refused (done's guards), for the JSON output */
    public readonly rule?: string,
  ) {
    super(message);
    this.name = 'DispatchError';
  }
}
