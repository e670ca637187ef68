/**
 * The teams-ai Application: message routing ("set up Opter email", "add sender …", the lifecycle commands — "new
 * secret", "remove sender …", "migrate … to RBAC", "test email …" —, "help", "use this channel for audit|approvals",
 * "status", anything else) and one handler per card verb. Every card action writes its own invoke
 * response (see invoke.ts) and is wrapped so that an unexpected error becomes an E_INTERNAL error body with a log
 * reference — never an HTTP 500, never a 501.
 */
import { randomUUID } from 'node:crypto';
import { ActivityTypes, type TurnContext } from 'botbuilder';
import { Application } from '@microsoft/teams-ai/lib/Application.js';
import type { TeamsAdapter } from '@microsoft/teams-ai/lib/TeamsAdapter.js';
import type { TurnState } from '@microsoft/teams-ai/lib/TurnState.js';
import { errorCard, VERBS, type Verb } from '../../cards';
import { OpterError } from '../../core/errors';
import { checkMayRequest, type Actor } from '../../requests/rules';
import { handleAddSenderCommand, handleChooseRegistration } from '../handlers/add-sender';
import { handleApprovalRefresh, handleDecision } from '../handlers/approvals';
import { handleUseChannel } from '../handlers/channel-change';
import { helpCard, parseMessage } from '../handlers/commands';
import { guardCardAction } from '../handlers/card-action';
import { handleCancel, handleFormAction, handleStartSetup, postSetupForm } from '../handlers/forms';
import { sendInvokeBody, sendInvokeResponse } from './invoke';
import { gateWrite, isWriteVerb } from './delegated-gate';
import { refusal, type InvokeResult } from '../invoke-result';
import { describeError } from '../describe-error';
import type { ProvisioningRunner } from '../background/runner';
import { handleHide, handleRemoveCredential, handleReveal } from '../handlers/secrets';
import { handleActionCommand, handleRegistrationAction } from '../handlers/lifecycle-requests';
import { handleResume } from '../handlers/resume';
import { handleOpterUpdated } from '../handlers/rotation';
import { statusCardFor } from '../handlers/status';
import { stripMentions } from './teams-context';
import { turnPortOf } from './turn';
import { cardMessage, type TurnPort } from '../turn-port';
import type { BotServices } from '../types';
import { rememberLastSeen } from '../background/worker';

export interface AppDeps {
  adapter: TeamsAdapter;
  botAppId: string;
  runner: ProvisioningRunner;
}

function isPrivileged(services: BotServices, actor: Actor): boolean {
  return services.roles.admins.has(actor.aadObjectId) || services.roles.approvers.has(actor.aadObjectId);
}

/**
 * Admins' and approvers' 1:1 chats are remembered (approval copies and secret cards go there). Nobody else's
 * messages change the store.
 */
function rememberPrivileged(services: BotServices, turn: TurnPort, actor: Actor): void {
  if (!isPrivileged(services, actor)) return;
  rememberLastSeen(services, turn, actor.tenantId);
  if (!turn.conversation.isPersonal) return;
  const known = services.store.cards.getUserConversation(actor.aadObjectId);
  if (known && known.conversationId === turn.conversation.id && known.serviceUrl === turn.serviceUrl) return;
  services.store.cards.setUserConversation(actor.aadObjectId, {
    conversationId: turn.conversation.id,
    serviceUrl: turn.serviceUrl,
    tenantId: actor.tenantId,
    reference: turn.reference,
    updatedBy: actor.aadObjectId,
  });
}

async function replyError(turn: TurnPort, error: OpterError): Promise<void> {
  await turn.send(cardMessage(errorCard({ code: error.code, detail: error.detail })));
}

const welcomedKey = (conversationId: string) => `welcomed:${conversationId}`;

/**
 * The bot was installed (installationUpdate `add`, or conversationUpdate with the bot in `membersAdded` — Teams sends
 * both, and Microsoft 365 Agents Playground sends both on every page load): the help card once per install of a 1:1
 * conversation. The marker is only the conversation id; an uninstall clears it so a new install is welcomed again.
 */
async function onInstalled(services: BotServices, turn: TurnPort): Promise<void> {
  const actor = turn.actor;
  if (!actor) return;
  rememberPrivileged(services, turn, actor);
  if (!turn.conversation.isPersonal) return;
  const key = welcomedKey(turn.conversation.id);
  if (!services.store.kv.markOnce(key, { at: services.clock.now().toISOString() })) return;
  try {
    await turn.send(cardMessage(helpCard(helpFor(services, actor))));
  } catch (e) {
    // Not welcomed after all: the next install event may try again.
    services.store.kv.delete(key);
    throw e;
  }
}

function onUninstalled(services: BotServices, context: TurnContext): void {
  const conversationId = context.activity.conversation?.id;
  if (conversationId) services.store.kv.delete(welcomedKey(conversationId));
}

function helpFor(services: BotServices, actor: Actor) {
  return {
    canRequest: services.roles.admins.has(actor.aadObjectId),
    canApprove: services.roles.approvers.has(actor.aadObjectId),
    localMode: services.config.mode === 'local',
  };
}

async function onMessage(services: BotServices, context: TurnContext): Promise<void> {
  const turn = turnPortOf(context);
  const actor = turn.actor;
  if (!actor) {
    await turn.send('I can only help signed-in Teams users.');
    return;
  }
  rememberPrivileged(services, turn, actor);
  const { command, action } = parseMessage(stripMentions(context.activity));
  if (action) {
    const denied = checkMayRequest(actor, services.roles);
    if (denied) return replyError(turn, denied);
    if (action.request?.fromCommand) return handleActionCommand(services, turn, actor, action, command);
    // The two actions asked for through a conversation of the bot's own: setup's form, add sender's address check.
    if (command.kind === 'setup') return postSetupForm(services, turn, actor);
    if (command.kind === 'add-sender') return handleAddSenderCommand(services, turn, actor, command.addresses);
  }
  switch (command.kind) {
    case 'help':
      await turn.send(cardMessage(helpCard(helpFor(services, actor))));
      return;
    case 'use-channel':
      return handleUseChannel(services, turn, actor, command.purpose);
    case 'status':
      await turn.send(cardMessage(await statusCardFor(services, { mayRequest: !checkMayRequest(actor, services.roles), shared: !turn.conversation.isPersonal })));
      return;
    case 'unknown': {
      const shown = command.text.length > 60 ? `${command.text.slice(0, 57)}…` : command.text;
      await turn.send(
        shown
          ? `Sorry, I did not understand “${shown}”. I can **set up Opter email**, **add sender** / **remove sender**, make a **new secret**, **migrate** to RBAC, send a **test email** and show the **status**. Type **help** for details.`
          : 'Hello! Type **help** to see what I can do.',
      );
      return;
    }
  }
}

export function createApplication(services: BotServices, deps: AppDeps): Application<TurnState> {
  const app = new Application<TurnState>({
    adapter: deps.adapter,
    botAppId: deps.botAppId,
    // Typing indicators would race the card replies of fast handlers and add connector traffic; nothing here is slow.
    startTypingTimer: false,
    removeRecipientMention: true,
  });
  const { log } = services;

  // Handlers see the turn through the port only; the invoke answer and the log line are the host's.
  const onAction = (verb: Verb, handler: (turn: TurnPort) => Promise<InvokeResult> | InvokeResult) => {
    app.adaptiveCards.actionExecute(verb, async (context, _state, data) => {
      let result: InvokeResult;
      try {
        const turn = turnPortOf(context, data);
        // Delegated mode: a click that writes first needs the clicker's own sign-in (delegated-gate.ts).
        if (services.delegation && isWriteVerb(verb)) {
          const gate = await gateWrite(services, turn, verb, context.activity.value);
          if (gate && 'body' in gate) {
            await sendInvokeBody(context, gate.body);
            return '';
          }
          if (gate) {
            await sendInvokeResponse(context, gate);
            return '';
          }
        }
        result = await handler(turn);
        // Access held for a run that did not start (a refusal, a second click) must not wait for a later one.
        const requestId = (data as { requestId?: unknown } | undefined)?.requestId;
        if (services.delegation && typeof requestId === 'string' && !deps.runner.isRunning(requestId)) services.delegation.drop(requestId);
      } catch (e) {
        const ref = randomUUID().slice(0, 8);
        log.error(`card action ${verb} failed (ref ${ref}): ${describeError(e)}`, e);
        result = { error: new OpterError('E_INTERNAL', { detail: `ref ${ref}` }) };
      }
      if ('error' in result) {
        const who = context.activity.from?.aadObjectId ?? context.activity.from?.id ?? 'unknown';
        log.info(`card action ${verb} by ${who} answered ${result.error.code}`);
      }
      await sendInvokeResponse(context, result);
      return '';
    });
  };

  onAction(VERBS.startSetup, (turn) => handleStartSetup(services, turn));
  // The answer to a click is seen by the clicking person only.
  onAction(VERBS.showStatus, async (turn) => {
    const guarded = guardCardAction(turn, services, { verb: 'status', card: null, subject: 'none', access: 'anyone' });
    if (guarded.error) return { error: guarded.error };
    const { actor } = guarded;
    return { card: await statusCardFor(services, { mayRequest: !!actor && !checkMayRequest(actor, services.roles), shared: false }) };
  });
  onAction(VERBS.checkRequest, (turn) => handleFormAction(services, turn, 'check-request'));
  onAction(VERBS.submitRequest, (turn) => handleFormAction(services, turn, 'submit-request'));
  onAction(VERBS.cancelRequest, (turn) => handleCancel(services, turn));
  onAction(VERBS.chooseRegistration, (turn) => handleChooseRegistration(services, turn));
  onAction(VERBS.approve, (turn) => handleDecision(services, turn, 'approve', { onApproved: (id) => void deps.runner.start(id) }));
  onAction(VERBS.reject, (turn) => handleDecision(services, turn, 'reject', { onApproved: (id) => void deps.runner.start(id) }));
  onAction(VERBS.refreshApproval, (turn) => handleApprovalRefresh(services, turn));
  onAction(VERBS.resume, (turn) => handleResume(services, turn, deps.runner));
  onAction(VERBS.reveal, (turn) => handleReveal(services, turn));
  onAction(VERBS.hideSecret, (turn) => handleHide(services, turn));
  for (const verb of [VERBS.rotateSecret, VERBS.repair, VERBS.adopt] as const) {
    onAction(verb, (turn) => handleRegistrationAction(services, turn, verb));
  }
  onAction(VERBS.opterUpdated, (turn) => handleOpterUpdated(services, turn, deps.runner));
  onAction(VERBS.removeCredential, (turn) => handleRemoveCredential(services, turn));

  // Any other adaptiveCard/action (unknown verb, Action.Submit shapes): an error body instead of botbuilder's 501.
  app.addRoute(
    async (context) => context.activity.type === ActivityTypes.Invoke && context.activity.name === 'adaptiveCard/action',
    async (context) => {
      await sendInvokeResponse(context, refusal('E_INPUT_INVALID', 'the card sent an action this bot does not know'));
    },
    true,
  );

  app.conversationUpdate('membersAdded', async (context) => {
    const botAdded = (context.activity.membersAdded ?? []).some((m) => m?.id === context.activity.recipient?.id);
    if (botAdded) await onInstalled(services, turnPortOf(context));
  });
  app.conversationUpdate('membersRemoved', async (context) => {
    const botRemoved = (context.activity.membersRemoved ?? []).some((m) => m?.id === context.activity.recipient?.id);
    if (botRemoved) onUninstalled(services, context);
  });
  app.activity(ActivityTypes.InstallationUpdate, async (context) => {
    const action = String((context.activity as { action?: unknown }).action ?? '');
    if (action === 'add') return onInstalled(services, turnPortOf(context));
    if (action === 'remove') return onUninstalled(services, context);
    // add-upgrade / remove-upgrade: a new version of the app, still installed; nothing to say.
    const turn = turnPortOf(context);
    if (turn.actor) rememberPrivileged(services, turn, turn.actor);
  });
  app.activity(ActivityTypes.Message, async (context) => {
    try {
      await onMessage(services, context);
    } catch (e) {
      const ref = randomUUID().slice(0, 8);
      log.error(`message handling failed (ref ${ref}): ${describeError(e)}`, e);
      await replyError(turnPortOf(context), new OpterError('E_INTERNAL', { detail: `ref ${ref}` })).catch(() => undefined);
    }
  });
  app.error(async (_context, err) => {
    log.error(`turn failed: ${describeError(err)}`, err);
  });
  return app;
}
