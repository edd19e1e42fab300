/** Steer a running session with a message, or abort its run (after a confirm step). */
import { type KeyboardEvent, useEffect, useRef, useState } from 'react';
import { abortSession, steerSession } from './actions.js';

type Result = { tone: 'ok' | 'err'; text: string } | undefined;

interface Props {
  sessionKey: string;
  /** the session has a run going (active, stuck or an open run): only then can it be steered */
  active: boolean;
}

export function SessionControls({ sessionKey, active }: Props) {
  const [message, setMessage] = useState('');
  const [sending, setSending] = useState(false);
  // one line for the newest outcome: an old steer error next to a new abort would read as one
  const [result, setResult] = useState<Result>();
  const [confirming, setConfirming] = useState(false);
  const [aborting, setAborting] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const abortButton = useRef<HTMLButtonElement>(null);
  const noButton = useRef<HTMLButtonElement>(null);
  const wasConfirming = useRef(false);

  // focus follows the confirm step: onto "No" (the safe answer) and back onto Abort after
  useEffect(() => {
    if (confirming) noButton.current?.focus();
    else if (wasConfirming.current) abortButton.current?.focus();
    wasConfirming.current = confirming;
  }, [confirming]);

  // the input was disabled while sending, which dropped its focus: give it back once enabled
  const wasSending = useRef(false);
  useEffect(() => {
    if (!sending && wasSending.current) input.current?.focus();
    wasSending.current = sending;
  }, [sending]);

  // the result outlives the run it ended, so an abort still says what happened
  if (!active && !result) return null;

  const send = async () => {
    if (sending || !message.trim()) return;
    setSending(true);
    setResult(undefined);
    const r = await steerSession(sessionKey, message);
    setSending(false);
    if (r.ok) {
      setMessage('');
      setResult({ tone: 'ok', text: `steered (${r.value.mode})` });
    } else setResult({ tone: 'err', text: r.error });
  };

  const abort = async () => {
    setAborting(true);
    setResult(undefined);
    const r = await abortSession(sessionKey);
    setAborting(false);
    setConfirming(false);
    if (!r.ok) setResult({ tone: 'err', text: r.error });
    else if (r.value.aborted) setResult({ tone: 'ok', text: `aborted (${r.value.method})` });
    else setResult({ tone: 'err', text: `nothing to abort (${r.value.method})` });
  };

  // Escape cancels the confirm step here instead of closing the session (App's handler)
  const onConfirmKey = (e: KeyboardEvent) => {
    if (e.key !== 'Escape' || aborting) return;
    e.stopPropagation();
    setConfirming(false);
  };

  return (
    <section className="controls" aria-label="session controls" data-testid="controls">
      {active && (
        <div className="control-row">
          <form
            className="steer"
            onSubmit={(e) => {
              e.preventDefault();
              void send();
            }}
          >
            <label htmlFor="steer-input">Steer</label>
            <input
              id="steer-input"
              ref={input}
              type="text"
              value={message}
              onChange={(e) => setMessage(e.target.value)}
              placeholder="tell the running agent…"
              disabled={sending}
              autoComplete="off"
              aria-describedby="action-result"
            />
            <button type="submit" className="btn btn-primary" disabled={sending || !message.trim()}>
              {sending ? 'Sending…' : 'Send'}
            </button>
          </form>
          {/* biome-ignore lint/a11y/noStaticElementInteractions: only catches Escape bubbling from its buttons */}
          <div className="abort" onKeyDown={onConfirmKey}>
            {confirming ? (
              <>
                <span className="confirm-q" id="abort-q">
                  Abort run?
                </span>
                <button
                  type="button"
                  className="btn btn-danger"
                  onClick={() => void abort()}
                  disabled={aborting}
                  aria-describedby="abort-q"
                >
                  {aborting ? 'Aborting…' : 'Yes'}
                </button>
                <button
                  type="button"
                  ref={noButton}
                  className="btn"
                  onClick={() => setConfirming(false)}
                  disabled={aborting}
                >
                  No
                </button>
              </>
            ) : (
              <button
                type="button"
                ref={abortButton}
                className="btn btn-danger-outline"
                onClick={() => setConfirming(true)}
              >
                Abort
              </button>
            )}
          </div>
        </div>
      )}
      <p className="control-results" id="action-result" role="status" aria-live="polite">
        {result && <span className={`result tone-${result.tone}`}>{result.text}</span>}
      </p>
    </section>
  );
}
