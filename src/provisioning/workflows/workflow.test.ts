import { describe, expect, it } from 'vitest';
import { recordedChecksOf } from './workflow';

const check = { name: 'Test-ApplicationAccessPolicy info@contoso.com', ok: true, detail: 'Granted' };
const noSteps = () => undefined;

describe('recordedChecksOf: the checks a verifying job recorded, decoded', () => {
  it('reads the typed result first', () => {
    expect(recordedChecksOf({ result: { checks: [check] } }, () => ({ checks: [{ ...check, detail: 'from the step' }] }))).toEqual({ checks: [check], testEmail: false });
  });

  it('turns a test email’s layers into one check per layer', () => {
    const layers = [{ layer: 'token', ok: true, detail: 'signed in' }, { layer: 'send', ok: false, detail: 'refused' }];
    expect(recordedChecksOf({ result: { kind: 'test-email', layers } }, noSteps)).toEqual({
      checks: [
        { name: 'token', ok: true, detail: 'signed in' },
        { name: 'send', ok: false, detail: 'refused' },
      ],
      testEmail: true,
    });
  });

  it('falls back to the verify or testSend step of a job stored before results were', () => {
    expect(recordedChecksOf({ result: null }, (step) => (step === 'verify' ? { checks: [check] } : undefined))).toEqual({ checks: [check], testEmail: false });
    const layers = [{ layer: 'send', ok: true, detail: 'delivered' }];
    expect(recordedChecksOf(null, (step) => (step === 'testSend' ? { layers } : undefined))).toEqual({ checks: [{ name: 'send', ok: true, detail: 'delivered' }], testEmail: true });
  });

  it('ignores what does not decode as checks, and says null when nothing was recorded', () => {
    expect(recordedChecksOf({ result: { checks: [{ name: 1 }] } }, () => ({ checks: [check] }))).toEqual({ checks: [check], testEmail: false });
    expect(recordedChecksOf({ result: { checks: [] } }, noSteps)).toBeNull();
    expect(recordedChecksOf(null, noSteps)).toBeNull();
  });
});
