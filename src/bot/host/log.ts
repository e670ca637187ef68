/**
 * The bot's logger. Every line passes through redaction before it reaches the sink: the store's shape/key-based
 * `redact` plus a registry of the secret values this process currently holds (registered the moment the engine
 * hands a secret over, forgotten once it is revealed or expired). A client secret can therefore not reach the log
 * even through an error message that happens to quote it.
 */
import { SecretRegistry } from '../../store';
import { consoleLogger, type BotLogger } from './server';

export interface RedactingLogger extends BotLogger {
  /** The live secret values being redacted (shared with the secret sink). */
  readonly secrets: SecretRegistry;
}

/** Wraps `inner` (default: console) so nothing it receives can contain a registered or secret-shaped value. */
export function createRedactingLogger(inner: BotLogger = consoleLogger, secrets: SecretRegistry = new SecretRegistry()): RedactingLogger {
  const clean = (message: string) => secrets.redactString(String(message));
  return {
    secrets,
    info: (message) => inner.info(clean(message)),
    warn: (message) => inner.warn(clean(message)),
    error: (message, err) => {
      // Hand the inner logger a redacted Error so its formatting (message, maybe stack) stays safe too.
      inner.error(clean(message), err === undefined ? undefined : redactedError(err, secrets));
    },
  };
}

function redactedError(err: unknown, secrets: SecretRegistry): Error {
  if (err instanceof Error) {
    const copy = new Error(secrets.redactString(err.message));
    copy.name = err.name;
    if (err.stack) copy.stack = secrets.redactString(err.stack);
    return copy;
  }
  const shown = typeof err === 'string' ? err : (JSON.stringify(secrets.redact(err)) ?? String(err));
  return new Error(secrets.redactString(shown));
}
