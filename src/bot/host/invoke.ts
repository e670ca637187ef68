/**
 * Invoke responses for `adaptiveCard/action`. The bot always writes the response itself (teams-ai then adds
 * nothing), for two reasons:
 *  - teams-ai silently turns a returned card that has `refresh` into an edit of the message for everyone, and
 *    remembers that mode for the verb from then on; writing the response ourselves keeps a per-user answer per-user.
 *  - Refusals are answered the same way everywhere: HTTP 200 with an `application/vnd.microsoft.error` body carrying
 *    the catalogue code (4xx by category, 500 only for our own bugs) — never an HTTP 500, never a swallowed 501.
 */
import { ActivityTypes, type TurnContext } from 'botbuilder';
import { invokeBody, type InvokeResult } from '../invoke-result';

export async function sendInvokeResponse(context: TurnContext, result: InvokeResult): Promise<void> {
  await context.sendActivity({ type: ActivityTypes.InvokeResponse, value: { status: 200, body: invokeBody(result) } });
}

/** An invoke body of the Universal Actions sign-in protocol (sso.ts: 401 login request, 412), written as is. */
export async function sendInvokeBody(context: TurnContext, body: Record<string, unknown>): Promise<void> {
  await context.sendActivity({ type: ActivityTypes.InvokeResponse, value: { status: 200, body } });
}
