/**
 * "set up Opter email": the form's request (forms.ts in the bot) → the engine's provision job (app, permission,
 * sender group, scoping, secret, verification). The secret reaches the requester through the one-time secret card.
 */
import { PROVISION_RBAC_STEPS, PROVISION_STEPS, provisionWorkflow, type ProvisionInput } from '../../provisioning';
import { formatOutputBlock, type OutputFields } from '../../provisioning';
import { provisionPayloadSchema, provisionRequestResult, union, type ProvisionPayload } from '../common';
import { editDistance, POLITE } from '../text';
import { defineAction } from '../types';

const SETUP_FORMS = ['setupopteremail', 'setupoptermail'];
/** Compact form (no spaces) of "set up opter email" within two typos, e.g. "set up opter emial". */
const SETUP_TYPOS = 2;

export function isSetup(norm: string): boolean {
  const body = norm.replace(POLITE, '').replace(/ please$/, '');
  if (/^(?:set ?up|configure|enable)( the)? opter( e ?mail| mail)( setup)?$/.test(body)) return true;
  const compact = body.replace(/\s/g, '');
  return SETUP_FORMS.some((form) => editDistance(compact, form, SETUP_TYPOS) <= SETUP_TYPOS);
}

const scopingName = (p: ProvisionPayload) => (p.scoping === 'rbac' ? 'RBAC for Applications' : 'an Application Access Policy');

export const setup = defineAction({
  kind: 'provision',
  label: 'Set up Opter email',
  command: { words: ['set up opter email'], parse: (t) => (isSetup(t.norm) ? ({ kind: 'setup' } as const) : null) },
  help: { command: 'set up Opter email', what: 'Register Opter in Microsoft 365 so it can send email (app, permission, sender group, secret). Another admin approves first.', who: 'admin' },
  payload: provisionPayloadSchema,
  approval: {
    variant: 'setup',
    plan(p: ProvisionPayload) {
      // An existing group is never shown as new: its members are the "before" of the change.
      const before = p.reuse?.membersBefore ?? p.existingGroup?.members ?? [];
      const groupExists = !!p.reuse?.groupExists || !!p.existingGroup;
      const createsCredential = p.reuse ? p.reuse.createsCredential : true;
      return {
        appDisplayName: p.appName,
        appId: p.reuse?.appId,
        createsApp: !p.reuse,
        ...(createsCredential
          ? { secret: { displayName: p.names.credentialName, validYears: p.validYears, expiresAt: p.credentialExpiresAt ?? undefined, clampedByPolicy: p.credentialClamped } }
          : {}),
        group: { name: p.names.groupName, alias: p.names.groupAlias, smtp: p.groupSmtp ?? undefined, exists: groupExists },
        members: { before, after: union(before, p.senders) },
        scoping: p.scoping ?? 'access-policy',
      };
    },
  },
  // The app, its service principal and secret; the Graph Mail.Send grant (or, with RBAC scoping, its removal); the group, its members and the access policy or RBAC assignment.
  roleNeeds: ['applications', 'graph-grant', 'exchange'],
  progress: {
    title: (r) => `Setting up Opter email: ${r.payload.appName}`,
    steps: (r) => (r.payload.scoping === 'rbac' ? PROVISION_RBAC_STEPS : PROVISION_STEPS),
  },
  workflow: provisionWorkflow,
  job: {
    input: (p): ProvisionInput => ({ appDisplayName: p.appName, senders: p.senders, secretValidYears: p.validYears, overrides: p.overrides, scoping: p.scoping ?? 'access-policy' }),
    start: (engine, input, key) => engine.createJob('provision', input, key),
  },
  settlement: {
    resultFields: provisionRequestResult,
    settle({ request, result, post, notify }) {
      if (result.keyId) {
        post('secret-post', `secret-post:${request.id}:${result.keyId}`);
        return;
      }
      notify({
        title: 'Opter email is set up',
        text: `${request.payload.appName} already had a valid client secret, so no new one was created (client id ${result.clientId}). Ask for a new secret if Opter does not have it.`,
        tone: 'info',
      });
    },
  },
  // Never beside anything: the form refuses a name with a request on its way (registrations.ts in the bot).
  runsBesideAWaitingMigration: false,
  cli: { lines: (doc) => ['', ...formatOutputBlock(doc.output as OutputFields)] },
  audit: {
    what: (p) => `set up “${p.appName}” for ${p.senders.join(', ')}`,
    requested: (p) => `Set up “${p.appName}” for ${p.senders.join(', ')} with ${scopingName(p)}${p.reuse ? ' (reusing the existing registration)' : ''}.`,
  },
});
