/**
 * "test email to me from x@…": one message to the requester as a sender, with a temporary secret the engine removes
 * again (it never reaches the bot). The result shows sign-in, scope and send one by one.
 */
import { TEST_EMAIL_STEPS, testEmailWorkflow } from '../../provisioning';
import { PROPAGATION_CAVEAT, TEST_SECRET_LIFETIME_MS, type TestEmailInput } from '../../provisioning';
import { lifecycleBasePlan, lifecyclePayload, lifecycleResultCardOf, lifecycleRequestResult, lifecycleTarget } from '../common';
import { appName } from '../text';
import { defineAction } from '../types';
import { testEmailRequest } from './request';

const LAYER_LABELS: Record<string, string> = { token: 'Token (sign-in as the app)', scope: 'Scope (may send as this mailbox)', send: 'Send accepted by Microsoft Graph' };

export const testEmail = defineAction({
  kind: 'test-email',
  label: 'Test email',
  command: {
    words: ['test email', 'send test email', 'test mail'],
    parse({ phrase }) {
      const test = /^(?:send\s+)?(?:me\s+)?(?:a\s+)?test\s*(?:e-?\s?mail|mail|message)(?:\s+to\s+(me|\S+@\S+))?(?:\s+from\s+(\S+@\S+))?(?:\s+(?:via|using|through|with)\s+(.+))?$/i.exec(phrase);
      if (!test) return null;
      return { kind: 'test-email', to: (test[1] ?? 'me').toLowerCase() === 'me' ? 'me' : test[1]!, from: test[2] ?? null, app: appName(test[3]) } as const;
    },
  },
  help: {
    command: 'test email',
    example: 'test email to me from faktura@contoso.com',
    what: 'Send yourself a test message as a sender; no secret is asked for. Shows sign-in, scope and send separately.',
    who: 'admin',
  },
  request: testEmailRequest,
  payload: lifecyclePayload,
  approval: {
    variant: 'test-email',
    plan: (p) => ({ ...lifecycleBasePlan(p), testEmail: { from: p.from ?? '', to: p.to ?? '', temporarySecretMinutes: Math.round(TEST_SECRET_LIFETIME_MS / 60_000) } }),
  },
  // A temporary secret on the app, removed again; the message itself is sent as the app.
  roleNeeds: ['applications'],
  progress: { title: (r) => `Test email from ${r.payload.from} through ${r.payload.appName}`, steps: () => TEST_EMAIL_STEPS },
  workflow: testEmailWorkflow,
  job: {
    input: (p): TestEmailInput => ({ ...lifecycleTarget(p), from: p.from ?? '', to: p.to ?? '' }),
    start: (engine, input, key) => engine.createJob('test-email', input, key),
  },
  settlement: {
    resultFields(ctx) {
      const base = lifecycleRequestResult(ctx);
      return {
        ...base,
        layers: ctx.result.layers,
        testOk: ctx.result.ok,
        temporaryKeyRemoved: ctx.result.temporaryKeyRemoved,
        notes: base.notes.includes(PROPAGATION_CAVEAT) ? base.notes : [...base.notes, PROPAGATION_CAVEAT],
      };
    },
    settle({ request, result, audit, post }) {
      const p = request.payload;
      audit({
        action: 'test-email.finished',
        result: result.testOk ? 'success' : 'failure',
        objects: { appId: result.clientId, groupSmtp: result.groupSmtp },
        detail: `From ${p.from} to ${p.to}: ${(result.layers ?? []).map((l) => `${l.layer} ${l.ok ? '✓' : '✗'}`).join(', ')}; temporary secret ${result.temporaryKeyRemoved ? 'removed' : 'NOT confirmed removed'}.`,
      });
      post('result-post', `result-post:${request.id}`);
    },
    // The job finished (and its secret is gone) even when the message was refused: say how the test went.
    finalNotes: (r) => [`The test ${r.testOk ? 'went through' : 'did NOT go through'}: the result card shows token, scope and send one by one.`],
    resultCard: (request) =>
      lifecycleResultCardOf(
        request,
        (model, r) => {
          const p = request.payload;
          model.ok = r.testOk === true;
          model.title = model.ok ? `Test email sent from ${p.from}` : `Test email from ${p.from} did not go through`;
          model.summary = `${model.ok ? `Check the inbox of ${p.to}.` : 'See which layer failed below.'} The temporary secret ${r.temporaryKeyRemoved ? 'was removed again' : 'could not be confirmed removed'}; no secret was shown to anyone.`;
          model.checksTitle = 'Result per layer';
          model.checks = (r.layers ?? []).map((l) => ({ name: LAYER_LABELS[l.layer] ?? l.layer, ok: l.ok, detail: l.detail }));
          model.facts = [
            { title: 'From', value: p.from ?? '' },
            { title: 'To', value: p.to ?? '' },
          ];
        },
        { ownChecks: true },
      ),
  },
  // A temporary secret and one message: nothing the migration uses.
  runsBesideAWaitingMigration: true,
  cli: {
    lines({ result: r }) {
      return [
        `Test email from ${r.from} to ${r.to}: ${r.ok ? 'ACCEPTED' : 'FAILED'}`,
        ...r.layers.map((l) => `  ${l.ok ? '✓' : '✗'} ${l.layer.padEnd(5)} ${l.detail}`),
        `  The temporary secret was ${r.temporaryKeyRemoved ? 'removed' : 'NOT removed'}.`,
      ];
    },
  },
  audit: { what: (p) => `a test email from ${p.from} to ${p.to} through ${p.appName}` },
});
