import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EMBEDDED_TENANT, seededUserId } from '../sim/tenant';
import {
  AGENTS_PLAYGROUND_CONTEXT_FILE,
  AGENTS_TOOLKIT_PLAYGROUND_FILE,
  agentsPlaygroundContext,
  renderAgentsPlaygroundContext,
  renderAgentsToolkitPlayground,
} from './agents-playground';
import { channelIdOf, playgroundTeam } from './team';

const ROOT = resolve(__dirname, '../..');
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('the Microsoft 365 Agents Playground files', () => {
  it('are committed exactly as `npm run agents-playground-config` writes them', () => {
    expect(readFileSync(join(ROOT, AGENTS_PLAYGROUND_CONTEXT_FILE), 'utf8')).toBe(renderAgentsPlaygroundContext());
    expect(readFileSync(join(ROOT, AGENTS_TOOLKIT_PLAYGROUND_FILE), 'utf8')).toBe(renderAgentsToolkitPlayground());
  });

  it('name the embedded tenant, its admin and second approver, and our team channels, with valid GUIDs', () => {
    const ctx = agentsPlaygroundContext();
    expect(ctx.tenantId).toBe(EMBEDDED_TENANT.tenantId);
    expect(ctx.currentUser).toMatchObject({ aadObjectId: seededUserId(ctx.tenantId, 'admin'), userPrincipleName: 'admin@exempel.se' });
    expect(ctx.users.map((u) => u.aadObjectId)).toEqual([seededUserId(ctx.tenantId, 'vd')]);
    for (const id of [ctx.tenantId, ctx.currentUser.aadObjectId, ...ctx.users.map((u) => u.aadObjectId), ctx.team.aadGroupId]) expect(id).toMatch(GUID);
    const team = playgroundTeam(ctx.tenantId);
    expect(ctx.team.channels.map((c) => c.id)).toEqual([channelIdOf(team, 'requests'), channelIdOf(team, 'audit')]);
    expect(ctx.bot.id).toMatch(/^28:/);
    expect([ctx.currentUser, ...ctx.users].every((u) => u.id.startsWith('29:'))).toBe(true);
  });

  it('the Toolkit environment is local mode on the embedded tenant with our playground off', () => {
    const text = renderAgentsToolkitPlayground();
    expect(text).toMatch(/^ {8}PLAYGROUND: "0"$/m);
    for (const name of ['BOT_ID', 'BOT_PASSWORD', 'AZURE_CLIENT_ID']) expect(text).toMatch(new RegExp(`^ {8}${name}: ""$`, 'm'));
  });
});
