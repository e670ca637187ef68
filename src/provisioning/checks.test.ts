import { describe, expect, it } from 'vitest';
import { OpterError } from '../core/errors';
import {
  RESTRICTION_CHECK_NAME,
  checkLine,
  checkState,
  controlMailboxProblem,
  describeChecks,
  restrictionNotTested,
  skippedCheck,
  tallyChecks,
  verdict,
} from './checks';
import type { VerificationCheck } from './runtime';

const granted: VerificationCheck = { name: 'Test-ApplicationAccessPolicy a@x.se', ok: true, detail: 'Granted (expected Granted)' };
const denied: VerificationCheck = { name: 'Test-ApplicationAccessPolicy c@x.se', ok: true, detail: 'Denied (expected Denied)', provesRestriction: true };
const noToken = skippedCheck('Token as the new app', 'the job was resumed');

describe('verification checks have three states', () => {
  it('a skipped check is neither passed nor failed, and is not ok', () => {
    expect(noToken).toEqual({ name: 'Token as the new app', ok: false, skipped: true, detail: 'not run: the job was resumed' });
    expect(checkState(noToken)).toBe('skipped');
    expect(checkState(granted)).toBe('passed');
    expect(checkState({ ok: false, detail: 'Granted, expected Denied' })).toBe('failed');
  });

  it('reads a journal entry from before the third state ("ok", "not run: …") as skipped, not passed', () => {
    const legacy = { name: 'Token as the new app', ok: true, detail: 'not run: no new secret in this run' };
    expect(checkState(legacy)).toBe('skipped');
    expect(tallyChecks([granted, legacy])).toMatchObject({ passed: 1, skipped: 1, verified: false });
    expect(checkLine(legacy)).toBe('○ Token as the new app: skipped — not run: no new secret in this run');
  });

  it('says "N checks passed" only when every check ran and passed', () => {
    expect(describeChecks([granted, denied])).toBe('2 checks passed');
    expect(verdict([granted, denied])).toBe('2 checks passed');
    const withSkip = describeChecks([granted, denied, noToken]);
    expect(withSkip).not.toMatch(/^3 checks passed/);
    expect(withSkip).toBe('2 of 3 checks passed; not run: Token as the new app (the job was resumed)');
  });

  it('a skipped check does not fail the verdict; a failed one does, and only the failed one is named', () => {
    expect(() => verdict([granted, noToken])).not.toThrow();
    const failed: VerificationCheck = { name: 'Test-ApplicationAccessPolicy c@x.se', ok: false, detail: 'Granted, expected Denied' };
    let err: unknown;
    try {
      verdict([granted, failed, noToken]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OpterError);
    expect((err as OpterError).code).toBe('E_VERIFY_FAILED');
    expect((err as OpterError).detail).toBe('Test-ApplicationAccessPolicy c@x.se: Granted, expected Denied');
  });

  it('without a usable control mailbox the restriction is said plainly not to be verified', () => {
    expect(controlMailboxProblem(null, ['a@x.se'])).toMatch(/no mailbox outside the sender group is configured/);
    expect(controlMailboxProblem('A@x.se', ['a@x.se'])).toBe('the control mailbox A@x.se is itself a sender');
    expect(controlMailboxProblem('c@x.se', ['a@x.se'])).toBeNull();

    const checks = [granted, restrictionNotTested('the control mailbox a@x.se is itself a sender')];
    const t = tallyChecks(checks);
    expect(t).toMatchObject({ passed: 1, skipped: 1, verified: false, restrictionNotVerified: 'the control mailbox a@x.se is itself a sender' });
    expect(describeChecks(checks)).toBe('1 of 2 checks passed; the restriction was not verified: the control mailbox a@x.se is itself a sender');
  });

  it('another refused mailbox outside the group still proves the restriction', () => {
    const checks = [granted, restrictionNotTested('the control mailbox a@x.se is itself a sender'), denied];
    expect(tallyChecks(checks).restrictionNotVerified).toBeNull();
    expect(describeChecks(checks)).toBe(`2 of 3 checks passed; not run: ${RESTRICTION_CHECK_NAME} (the control mailbox a@x.se is itself a sender)`);
    // A refusal check that failed proves nothing.
    const failedRefusal = { ...denied, ok: false, detail: 'Granted, expected Denied' };
    expect(tallyChecks([granted, restrictionNotTested('x'), failedRefusal]).restrictionNotVerified).toBe('x');
  });
});
