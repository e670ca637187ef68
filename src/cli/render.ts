/** Human rendering of progress events for a terminal (stderr), one line per event. */
import { ERROR_CATALOGUE, describeAction, type ErrorCode } from '../core/errors';
import type { ProgressEvent } from '../core/ports';
import { stepTitle } from '../cards/step-titles';
import { checkLine } from '../provisioning';

const MARK = { ok: '✓', skip: '•', retry: '…', fail: '✗', run: '→' };

export function renderProgressLine(e: ProgressEvent): string | null {
  switch (e.type) {
    case 'step-started':
      return `${MARK.run} ${stepTitle(e.step)}`;
    case 'step-succeeded':
      return `${MARK.ok} ${stepTitle(e.step)}: ${e.summary}`;
    case 'step-skipped':
      return `${MARK.skip} ${stepTitle(e.step)}: ${e.summary} (done earlier)`;
    case 'step-retrying':
      return `${MARK.retry} ${stepTitle(e.step)}: ${e.reason} — retry ${e.attempt} in ${formatWait(e.waitMs)}`;
    case 'step-failed':
      return `${MARK.fail} ${stepTitle(e.step)}: ${e.code} ${e.message}\n    What to do: ${e.code in ERROR_CATALOGUE ? describeAction(e.code as ErrorCode, e.detail, 'cli-job') : e.action}`;
    case 'check':
      return `  ${checkLine({ name: e.name, ok: e.ok, detail: e.detail, skipped: e.skipped })}`;
    case 'note':
      return `  note: ${e.message}`;
    default:
      return null;
  }
}

export function formatWait(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}
