/**
 * The add-sender workflow: find the registration, add the senders to its group, and verify them by the scoping
 * model the registration has (access policy, RBAC for Applications, or both half-way through a migration).
 */
import { z } from 'zod';
import { verifyAccessPolicy, verifyEitherPath } from '../activities/verify';
import { validateSenders } from '../activities/exchange';
import { addSenders, locateForSenders } from '../activities/registration';
import { deriveNames, type NameOverrides } from '../names';
import { RBAC_PROPAGATION_NOTE, stepVerifyRbac } from '../rbac';
import type { VerificationCheck } from '../runtime';
import { ENFORCEMENT_NOTE, validateProvisionInput, type ProvisionResult } from './provision';
import { nameOverridesSchema, type Workflow } from './workflow';

export interface AddSendersInput {
  appDisplayName: string;
  senders: string[];
  overrides?: NameOverrides;
}

export const ADD_SENDER_STEPS = ['validate', 'locate', 'members', 'verify'] as const;

const addSendersInput: z.ZodType<AddSendersInput> = z.looseObject({ appDisplayName: z.string(), senders: z.array(z.string()), overrides: nameOverridesSchema.optional() });

export const addSenderWorkflow: Workflow<AddSendersInput, ProvisionResult> = {
  kind: 'add-sender',
  input: addSendersInput,
  prepare: (input) => {
    const valid = validateProvisionInput({ appDisplayName: input.appDisplayName, senders: input.senders, overrides: input.overrides });
    return { input: { appDisplayName: valid.appDisplayName, senders: valid.senders, overrides: input.overrides } };
  },
  async run(rt) {
    const input = rt.input;
    const names = deriveNames(input.appDisplayName, input.overrides);
    const { senders } = await validateSenders(rt, input.senders);
    const where = await locateForSenders(rt, names);
    const unchecked = where.unchecked ?? [];
    rt.notes.push(...unchecked);
    const members = await addSenders(rt, where, senders);
    // Earlier senders are in the group too: a control mailbox among them cannot show the restriction.
    const groupMembers = members.members ?? senders;
    let verify: { checks: VerificationCheck[] };
    if (where.scoping === 'rbac' && where.exoSpObjectId) {
      verify = await stepVerifyRbac(rt, {
        exoSpIdentity: where.exoSpObjectId,
        spObjectId: where.spObjectId,
        appId: where.appId,
        senders,
        groupMembers,
        signIn: null,
        ownGroup: { names, groupIdentity: where.groupIdentity },
      });
      rt.notes.push(RBAC_PROPAGATION_NOTE);
    } else if (where.scoping === 'mixed') {
      const loc = { appId: where.appId, hasGraphMailSend: !!where.hasGraphMailSend, scoping: 'mixed' as const, exoSpObjectId: where.exoSpObjectId ?? null };
      verify = await verifyEitherPath(rt, loc, senders, groupMembers);
      rt.notes.push(ENFORCEMENT_NOTE, RBAC_PROPAGATION_NOTE);
    } else {
      verify = await verifyAccessPolicy(rt, where.appId, senders, null, groupMembers, { names, groupIdentity: where.groupIdentity });
      rt.notes.push(ENFORCEMENT_NOTE);
    }
    return {
      jobId: rt.job.id,
      tenantId: rt.ports.directory.tenantId,
      names,
      appObjectId: where.appObjectId,
      clientId: where.appId,
      spObjectId: where.spObjectId,
      groupSmtp: where.groupSmtp,
      groupObjectId: where.groupObjectId,
      senders,
      created: { app: false, servicePrincipal: false, grant: false, group: false, policy: false },
      membersAdded: members.membersAdded,
      secret: null,
      checks: verify.checks.filter((c) => !c.name.startsWith('Token')),
      notes: [...new Set(rt.notes)],
      scoping: where.scoping === 'rbac' ? 'rbac' : 'access-policy',
      ...(unchecked.length ? { unchecked } : {}),
    };
  },
};
