/**
 * What a set of verification checks adds up to. A check has three outcomes — passed, failed, skipped (it did not
 * run) — and a check that did not run is never counted as passed: the summary then says what was not verified, and
 * "verified" is said only when every check ran and passed. Pure; shared by the engine, cards, bot and CLI.
 */
import { OpterError } from '../core/errors';
import type { VerificationCheck } from './runtime';

export type CheckState = 'passed' | 'failed' | 'skipped';

/** The check that proves the app is refused for a mailbox outside the sender group. */
export const RESTRICTION_CHECK_NAME = 'Refused for a mailbox outside the group';

const NOT_RUN = /^not run\b/i;

export function checkState(c: Pick<VerificationCheck, 'ok' | 'detail' | 'skipped'>): CheckState {
  if (c.skipped) return 'skipped';
  // Journals written before checks had a third state recorded a check that did not run as ok, "not run: …".
  if (c.ok && NOT_RUN.test(c.detail)) return 'skipped';
  return c.ok ? 'passed' : 'failed';
}

/** A check that did not run, and why. Not ok: nothing reads it as a pass. */
export function skippedCheck(name: string, reason: string): VerificationCheck {
  return { name, ok: false, skipped: true, detail: `not run: ${reason}` };
}

/**
 * Why the control mailbox cannot show that the restriction works (none configured, or it is in the sender group),
 * or null when it can.
 */
export function controlMailboxProblem(control: string | null | undefined, groupMembers: string[]): string | null {
  if (!control) return 'no mailbox outside the sender group is configured to test (VERIFY_DENIED_MAILBOX)';
  if (groupMembers.some((s) => s.toLowerCase() === control.toLowerCase())) return `the control mailbox ${control} is itself a sender`;
  return null;
}

/** The restriction check when the control mailbox cannot be used (see controlMailboxProblem). */
export function restrictionNotTested(problem: string): VerificationCheck {
  return skippedCheck(RESTRICTION_CHECK_NAME, problem);
}

export interface CheckTally {
  passed: number;
  failed: number;
  skipped: number;
  /** Every check ran and passed. */
  verified: boolean;
  /** Why the restriction to the sender group was not verified, when these checks were meant to prove it; else null. */
  restrictionNotVerified: string | null;
}

export function tallyChecks(checks: VerificationCheck[]): CheckTally {
  const states = checks.map(checkState);
  const count = (s: CheckState) => states.filter((x) => x === s).length;
  const restriction = checks.find((c) => c.name === RESTRICTION_CHECK_NAME && checkState(c) === 'skipped');
  // Another check may still have shown a mailbox outside the group refused (e.g. another registration's sender).
  const provenElsewhere = checks.some((c) => c.provesRestriction && checkState(c) === 'passed');
  return {
    passed: count('passed'),
    failed: count('failed'),
    skipped: count('skipped'),
    verified: states.length > 0 && states.every((s) => s === 'passed'),
    restrictionNotVerified: restriction && !provenElsewhere ? skipReason(restriction) : null,
  };
}

/** "not run: why" → "why". */
export function skipReason(c: Pick<VerificationCheck, 'detail'>): string {
  return c.detail.replace(NOT_RUN, '').replace(/^[:\s]+/, '') || 'not run';
}

/** One sentence for step summaries, audit lines and status: never "passed" for a check that did not run. */
export function describeChecks(checks: VerificationCheck[]): string {
  const t = tallyChecks(checks);
  if (t.verified) return `${t.passed} check${t.passed === 1 ? '' : 's'} passed`;
  const parts = [`${t.passed} of ${checks.length} checks passed`];
  if (t.failed) parts.push(`${t.failed} failed`);
  const notRun = checks.filter((c) => checkState(c) === 'skipped' && !(t.restrictionNotVerified && c.name === RESTRICTION_CHECK_NAME));
  if (notRun.length) parts.push(`not run: ${notRun.map((c) => `${c.name} (${skipReason(c)})`).join('; ')}`);
  if (t.restrictionNotVerified) parts.push(`the restriction was not verified: ${t.restrictionNotVerified}`);
  return parts.join('; ');
}

/**
 * What a finished job must say when not every check ran: that the restriction was not verified (and why), else which
 * checks did not run. Null when everything ran.
 */
export function unverifiedNotice(checks: VerificationCheck[]): string | null {
  const t = tallyChecks(checks);
  if (t.restrictionNotVerified) return `The restriction to the sender group was not verified: ${t.restrictionNotVerified}.`;
  const notRun = checks.filter((c) => checkState(c) === 'skipped');
  if (!notRun.length) return null;
  return `Not verified (did not run): ${notRun.map((c) => `${c.name} — ${skipReason(c)}`).join('; ')}.`;
}

/** Throws E_VERIFY_FAILED naming every failed check; otherwise the step summary (skipped checks do not fail it). */
export function verdict(checks: VerificationCheck[]): string {
  const failed = checks.filter((c) => checkState(c) === 'failed');
  if (failed.length) throw new OpterError('E_VERIFY_FAILED', { detail: failed.map((c) => `${c.name}: ${c.detail}`).join('; ') });
  return describeChecks(checks);
}

/** Marks for plain text (terminal, audit lines) and for cards. */
export const TEXT_MARK: Record<CheckState, string> = { passed: '✓', failed: '✗', skipped: '○' };
export const CARD_MARK: Record<CheckState, string> = { passed: '✅', failed: '❌', skipped: '⚪' };

/** What to show after the check's name: its detail, or "skipped — not run: why". */
export function checkDetail(c: Pick<VerificationCheck, 'ok' | 'detail' | 'skipped'>): string {
  return checkState(c) === 'skipped' ? `skipped — not run: ${skipReason(c)}` : c.detail;
}

/** "✓ name: detail", "○ name: skipped — not run: why". */
export function checkLine(c: VerificationCheck): string {
  return `${TEXT_MARK[checkState(c)]} ${c.name}: ${checkDetail(c)}`;
}
