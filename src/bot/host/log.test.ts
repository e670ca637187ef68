import { describe, expect, it } from 'vitest';
import { OpterError } from '../../core/errors';
import { invokeBody, statusCodeFor } from '../invoke-result';
import { createRedactingLogger } from './log';
import type { BotLogger } from './server';

function capture(): { lines: string[]; logger: BotLogger } {
  const lines: string[] = [];
  return {
    lines,
    logger: {
      info: (m) => void lines.push(`info ${m}`),
      warn: (m) => void lines.push(`warn ${m}`),
      error: (m, err) => void lines.push(`error ${m} | ${err instanceof Error ? `${err.message} | ${err.stack}` : String(err)}`),
    },
  };
}

describe('createRedactingLogger', () => {
  it('never passes a registered secret on, in messages, error messages or stacks', () => {
    const { lines, logger } = capture();
    const log = createRedactingLogger(logger);
    const secret = 'plain-looking-value-123456';
    log.secrets.add(secret);
    log.info(`value ${secret} here`);
    log.warn(JSON.stringify({ nested: secret }));
    const err = new Error(`failed with ${secret}`);
    log.error(`boom ${encodeURIComponent(secret)}`, err);
    log.error('object', { detail: secret });
    for (const line of lines) expect(line).not.toContain(secret);
    expect(lines[0]).toBe('info value [REDACTED] here');
    expect(lines).toHaveLength(4);
  });

  it('redacts secret-shaped values it was never told about, and forgets values on request', () => {
    const { lines, logger } = capture();
    const log = createRedactingLogger(logger);
    const entraSecret = 'abc8Q~' + 'x'.repeat(34);
    log.info(`got ${entraSecret}`);
    log.info('Authorization: Bearer eyJhbGciOi.eyJzdWIiOiIx.c2lnbmF0dXJl');
    expect(lines.join('\n')).not.toContain(entraSecret);
    expect(lines.join('\n')).not.toContain('eyJhbGciOi');
    log.secrets.add('temporary-value-99');
    log.secrets.forget('temporary-value-99');
    log.info('temporary-value-99');
    expect(lines.at(-1)).toBe('info temporary-value-99');
  });
});

describe('invoke bodies', () => {
  it('maps catalogue categories to 4xx, bugs to 500, and strips refresh from per-user cards', () => {
    expect(statusCodeFor('E_NOT_APPROVER')).toBe(403);
    expect(statusCodeFor('E_INPUT_INVALID')).toBe(400);
    expect(statusCodeFor('E_REQUEST_NOT_FOUND')).toBe(404);
    expect(statusCodeFor('E_SECRET_ALREADY_REVEALED')).toBe(409);
    expect(statusCodeFor('E_INTERNAL')).toBe(500);
    const body = invokeBody({ error: new OpterError('E_SECRET_ALREADY_REVEALED', { detail: '1 May 2026, 10:00 UTC' }) });
    expect(body).toEqual({
      statusCode: 409,
      type: 'application/vnd.microsoft.error',
      value: { code: 'E_SECRET_ALREADY_REVEALED', message: 'The secret was already revealed. It was revealed at 1 May 2026, 10:00 UTC. If it was lost, ask for a new secret.' },
    });
    const card = { type: 'AdaptiveCard' as const, $schema: 'x', version: '1.5' as const, body: [], refresh: { action: { type: 'Action.Execute' as const, title: 'r', verb: 'refresh-approval', associatedInputs: 'none' as const }, userIds: [] } };
    const cardBody = invokeBody({ card });
    expect(cardBody.type).toBe('application/vnd.microsoft.card.adaptive');
    expect((cardBody.value as Record<string, unknown>).refresh).toBeUndefined();
  });
});
