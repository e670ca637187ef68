/**
 * The playground's fixed Teams furniture: the bot's identity and the one team with its channels. Ids are derived
 * from the tenant id so they are stable across restarts (the bot stores conversation references and card activity
 * ids) and known before anything starts (the bot's APPROVALS_CHANNEL_ID / AUDIT_CHANNEL_ID point at them).
 */
import { createHash } from 'node:crypto';
import type { WorldBot, WorldTeam } from './world';

/**
 * The bot's Microsoft App ID as the playground's Teams knows it. In local mode the bot has no BOT_ID and learns its
 * own id from `recipient` on every activity, like a bot in Teams does.
 */
export const PLAYGROUND_BOT_APP_ID = '7e1b0a11-0b07-4f00-8a11-0000000b0a11';
/** Same name as the Teams app manifest's short name. */
export const PLAYGROUND_BOT_NAME = 'Opter Mail';

export function playgroundBot(name = PLAYGROUND_BOT_NAME): WorldBot {
  return { id: `28:${PLAYGROUND_BOT_APP_ID}`, name };
}

function hex(tenantId: string, what: string, length: number): string {
  return createHash('sha256').update(`${tenantId.toLowerCase()}|playground|${what}`).digest('hex').slice(0, length);
}

function channelId(tenantId: string, what: string): string {
  return `19:${hex(tenantId, what, 32)}@thread.tacv2`;
}

function guid(tenantId: string, what: string): string {
  const h = hex(tenantId, what, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** "Opter admins": General (its id is the team id), Requests (requests and approvals) and Audit. */
export function playgroundTeam(tenantId: string): WorldTeam {
  const teamId = channelId(tenantId, 'team');
  return {
    id: teamId,
    name: 'Opter admins',
    aadGroupId: guid(tenantId, 'team-group'),
    channels: [
      { key: 'general', id: teamId, name: 'General' },
      { key: 'requests', id: channelId(tenantId, 'requests'), name: 'Requests' },
      { key: 'audit', id: channelId(tenantId, 'audit'), name: 'Audit' },
    ],
  };
}

export function channelIdOf(team: WorldTeam, key: 'general' | 'requests' | 'audit'): string {
  const channel = team.channels.find((c) => c.key === key);
  if (!channel) throw new Error(`the playground team has no ${key} channel`);
  return channel.id;
}
