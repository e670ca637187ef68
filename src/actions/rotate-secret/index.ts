/**
 * "new secret for <app>" / "I lost the secret" and the Rotate now / New secret buttons: a new client secret through
 * the one-time secret card; the old ones keep working until Opter is confirmed updated or the overlap ends
 * (then the retire-secrets action removes them).
 */
import { ROTATE_STEPS, rotateSecretWorkflow } from '../../provisioning';
import type { RotateSecretInput } from '../../provisioning';
import { OUTPUT_LABELS } from '../../provisioning';
import { lifecycleBasePlan, lifecyclePayload, lifecycleResultCardOf, lifecycleRequestResult, lifecycleTarget } from '../common';
import { appName } from '../text';
import { defineAction } from '../types';
import { rotateSecretRequest } from './request';

const pad = (label: string) => label.padEnd(25, ' ');

export const rotateSecret = defineAction({
  kind: 'rotate-secret',
  label: 'New client secret',
  command: {
    words: ['new secret', 'rotate secret', 'renew secret', 'lost the secret'],
    parse({ phrase }) {
      const secret = /^(?:(?:create|make|get|give me|i need)\s+)?(?:a\s+)?(?:new|rotate|renew|another)\s+(?:the\s+)?(?:client\s+)?secret(?:\s+(?:for|of|on)\s+(.+))?$/i.exec(phrase);
      if (secret) return { kind: 'new-secret', app: appName(secret[1]), lost: false } as const;
      const lost = /^(?:i\s+)?(?:have\s+)?lost\s+(?:the\s+|my\s+|our\s+)?(?:client\s+)?secret(?:\s+(?:for|of)\s+(.+))?$/i.exec(phrase);
      if (lost) return { kind: 'new-secret', app: appName(lost[1]), lost: true } as const;
      return null;
    },
  },
  help: {
    command: 'new secret',
    example: 'new secret for OpterMessageProxy',
    what: 'Create a new client secret (also when it was lost: “I lost the secret”). The old one keeps working until Opter uses the new one.',
    who: 'admin',
  },
  request: rotateSecretRequest,
  payload: lifecyclePayload,
  approval: {
    variant: 'new-secret',
    plan: (p) => ({
      ...lifecycleBasePlan(p),
      secret: { displayName: p.credentialName ?? '', validYears: p.validYears ?? 0, expiresAt: p.credentialExpiresAt ?? undefined, clampedByPolicy: p.credentialClamped ?? false },
      rotation: { overlapDays: p.overlapDays ?? 0, oldSecrets: p.oldSecrets ?? [] },
    }),
  },
  // A new secret on the app (and the removal of one an interrupted run left undelivered).
  roleNeeds: ['applications'],
  progress: { title: (r) => `New client secret for ${r.payload.appName}`, steps: () => ROTATE_STEPS },
  workflow: rotateSecretWorkflow,
  job: {
    input: (p, settings): RotateSecretInput => ({ ...lifecycleTarget(p), secretValidYears: p.validYears, overlapDays: p.overlapDays ?? settings.rotationOverlapDays }),
    start: (engine, input, key) => engine.createJob('rotate-secret', input, key),
  },
  settlement: {
    resultFields(ctx) {
      const r = ctx.result;
      // A rotation that succeeded delivered its secret (createDeliveredSecret): its key id is the request's.
      return {
        ...lifecycleRequestResult(ctx, { secret: { keyId: r.keyId, endDateTime: r.endDateTime } }),
        previous: r.previous.map((x) => ({ keyId: x.keyId, endDateTime: x.endDateTime })),
        overlapEndsAt: r.overlapEndsAt,
      };
    },
    settle({ request, result, audit, post }) {
      const previous = result.previous ?? [];
      audit({
        action: 'secret.rotated',
        objects: { appId: result.clientId, groupSmtp: result.groupSmtp, ...(result.keyId ? { keyId: result.keyId } : {}) },
        detail: `New secret ${result.keyId ?? '(not delivered)'}; ${previous.length ? `${previous.map((x) => x.keyId).join(', ')} keep working until ${result.overlapEndsAt} or until Opter is confirmed updated` : 'there was no older secret'}.`,
      });
      // The secret card and the rotation card are its result; no result card.
      if (result.keyId) post('secret-post', `secret-post:${request.id}:${result.keyId}`);
      if (previous.length) post('rotation-post', `rotation-post:${request.id}`);
    },
    resultCard: (request) =>
      lifecycleResultCardOf(request, (model) => {
        model.title = `New secret for ${request.payload.appName} is ready`;
        model.summary = 'Reveal it on the secret card in your 1:1 chat with me.';
      }),
  },
  // Touches only the app's client secrets, which the migration never reads or writes.
  runsBesideAWaitingMigration: true,
  cli: {
    lines(doc) {
      const r = doc.result;
      return [
        '',
        '=== NEW SECRET (save securely) ===',
        `${pad(OUTPUT_LABELS.tenantId)}: ${doc.tenantId ?? ''}`,
        `${pad(OUTPUT_LABELS.clientId)}: ${r.appId}`,
        // The CLI holds a new secret only in its own memory: a run that was killed after creating it cannot show it.
        `${pad(OUTPUT_LABELS.clientSecret)}: ${doc.clientSecret ?? '(not shown: an interrupted run created it — run rotate again; it is then retired with the old ones)'}`,
        `${pad(OUTPUT_LABELS.secretExpires)}: ${r.endDateTime}`,
        '',
        r.previous.length
          ? `The old secret${r.previous.length === 1 ? '' : 's'} (${r.previous.map((p) => p.keyId).join(', ')}) keep working until ${r.overlapEndsAt}.`
          : 'The app had no other secret.',
        r.previous.length ? 'Put the new secret into Opter, then run: opter-mail retire-old-secrets --app-name "<name>"' : '',
      ].filter((l, i, all) => l !== '' || i < all.length - 1);
    },
  },
  audit: { what: (p) => `a new client secret for ${p.appName}` },
});
