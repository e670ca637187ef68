/**
 * Shared by the delegated-mode tests: the roles an approver needs for every kind of write, what counts as a write in
 * the simulator's request log, and the requests the tests start with.
 */
import { ENTRA_ROLES } from '../../src/core/roles';
import type { Simulator } from '../../src/sim';
import { approvalCopy, bodyOf, cardOf, click, dataOf, formInputs, openForm, personalId, textOf, type TestBot } from '../bot/helpers';
import type { FakeMessage } from '../harness/fake-connector';

/** Privileged Role Administrator + Exchange Administrator + Cloud Application Administrator: every write of every action. */
export const ALL_NEEDED_ROLES = [ENTRA_ROLES['Privileged Role Administrator'], ENTRA_ROLES['Exchange Administrator'], ENTRA_ROLES['Cloud Application Administrator']];

type LogEntry = ReturnType<Simulator['requests']>[number];

/** A call that changes the tenant: a Graph POST/PATCH/DELETE, or an Exchange cmdlet other than Get-/Test-. */
export function isWrite(r: LogEntry): boolean {
  return (r.family === 'graph' && ['POST', 'PATCH', 'DELETE'].includes(r.method) && !r.path.startsWith('/_sim')) || (r.family === 'exchange' && !!r.cmdlet && !/^(Get|Test)-/.test(r.cmdlet));
}

/** The requester asks for "set up Opter email" with one sender; returns the request and the approver's copy. */
export async function requestSetup(t: TestBot, sim: Simulator, appName: string): Promise<{ requestId: string; copy: FakeMessage }> {
  const form = await openForm(t);
  const requestId = String(dataOf(cardOf(form), 'submit-request').requestId);
  const submitted = bodyOf(await click(t, t.personas.requester, form, 'submit-request', formInputs({ appName, senders: [sim.mailboxes.info] })));
  if (!textOf(submitted.value).includes('Sent for approval')) throw new Error(`the form was not sent: ${textOf(submitted.value)}`);
  return { requestId, copy: await approvalCopy(t, requestId, personalId(t, t.personas.approver)) };
}
