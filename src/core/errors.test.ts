import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE, OpterError, RETRY_IN, describeAction, type ErrorCode, type ErrorPlace } from './errors';

const CODES = Object.keys(ERROR_CATALOGUE) as ErrorCode[];
const PLACES = Object.keys(RETRY_IN) as ErrorPlace[];
const SAMPLE_DETAIL = 'the sample detail';

describe('what to do, by where it is shown', () => {
  it.each(PLACES)('%s: every action is complete text (no placeholder left, no dangling punctuation)', (place) => {
    for (const code of CODES) {
      for (const detail of [SAMPLE_DETAIL, undefined]) {
        const text = describeAction(code, detail, place);
        expect(text, code).not.toMatch(/[{}]/);
        expect(text, code).not.toMatch(/[:;]\s*$|^\s*[.:;]|:\s*\./);
        expect(text.charAt(0), code).toBe(text.charAt(0).toUpperCase());
      }
    }
  });

  it('offers the Retry button only on the progress card, which has one', () => {
    for (const place of PLACES.filter((p) => p !== 'progress')) {
      for (const code of CODES) expect(describeAction(code, SAMPLE_DETAIL, place), `${code} in ${place}`).not.toMatch(/\bRetry\b/);
    }
    expect(describeAction('E_THROTTLED', undefined, 'progress')).toBe('Wait a few minutes, then press Retry.');
    expect(describeAction('E_VERIFY_FAILED', 'x denied', 'progress')).toBe('See the failed check: x denied. Press Retry to repair and verify again.');
  });

  it('speaks of marked fields only on the form, and of buttons never in the CLI', () => {
    for (const place of PLACES) {
      for (const code of CODES) {
        const text = describeAction(code, SAMPLE_DETAIL, place);
        if (place !== 'form') expect(text, `${code} in ${place}`).not.toMatch(/highlighted|marked below|fields/i);
        if (place === 'cli' || place === 'cli-job') expect(text, `${code} in ${place}`).not.toMatch(/button|bot log/i);
      }
    }
    expect(describeAction('E_INPUT_INVALID', undefined, 'form')).toBe('Correct the fields marked below and submit again.');
    expect(describeAction('E_INPUT_INVALID', 'x is not a sender', 'chat')).toBe('Change what the reason says, then send the message again.');
  });

  it('the CLI says which command continues an unfinished job', () => {
    expect(new OpterError('E_REPLICATION_TIMEOUT', { detail: 'the group is not visible yet.' }).actionIn('cli-job')).toBe(
      'New objects usually appear within minutes; run “opter-mail resume” to continue where it stopped. the group is not visible yet.',
    );
    expect(new OpterError('E_JOB_UNFINISHED').actionIn('cli-job')).toBe('Run “opter-mail resume” to finish it.');
  });

  it('without a place, the words fit anywhere', () => {
    for (const code of CODES) expect(new OpterError(code, { detail: SAMPLE_DETAIL }).action, code).not.toMatch(/\bRetry\b|highlighted|button/);
  });
});
