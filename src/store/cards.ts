/**
 * Where the bot's cards live (so every copy can be updated later) and named conversation references (the audit
 * channel, the approvals channel, each user's 1:1 chat) for proactive messages.
 * References are stored as opaque JSON: the store does not import botbuilder; callers pass
 * `TurnContext.getConversationReference(activity)` and get the same object back.
 */
import type Database from 'better-sqlite3';
import type { Clock } from '../core/ports';
import { fromJson, toIso, toJson } from './json';

export type CardRole = 'approval' | 'progress' | 'secret' | 'form' | 'result' | 'reminder' | (string & {});

export interface CardActivity<R = unknown> {
  id: number;
  requestId: string;
  role: CardRole;
  conversationId: string;
  activityId: string;
  serviceUrl: string;
  reference: R;
  createdAt: string;
  updatedAt: string;
}

export interface NewCardActivity {
  requestId: string;
  role: CardRole;
  conversationId: string;
  activityId: string;
  serviceUrl: string;
  reference: unknown;
  now?: Date;
}

export interface NamedConversation<R = unknown> {
  name: string;
  conversationId: string;
  serviceUrl: string;
  tenantId: string | null;
  reference: R;
  updatedAt: string;
  /** Who set it (e.g. the admin who said "use this channel for audit"). */
  updatedBy: string | null;
}

export interface NewNamedConversation {
  conversationId: string;
  serviceUrl: string;
  tenantId?: string | null;
  reference: unknown;
  updatedBy?: string | null;
  now?: Date;
}

/** Well-known names; user chats are `user:<aadObjectId>` (see userConversationName). */
export const AUDIT_CHANNEL = 'audit-channel';
export const APPROVALS_CHANNEL = 'approvals-channel';
export function userConversationName(aadObjectId: string): string {
  return `user:${aadObjectId.toLowerCase()}`;
}

interface CardRow {
  id: number;
  request_id: string;
  role: string;
  conversation_id: string;
  activity_id: string;
  service_url: string;
  reference: string;
  created_at: string;
  updated_at: string;
}

interface RefRow {
  name: string;
  conversation_id: string;
  service_url: string;
  tenant_id: string | null;
  reference: string;
  updated_at: string;
  updated_by: string | null;
}

function cardFromRow<R>(r: CardRow): CardActivity<R> {
  return {
    id: r.id,
    requestId: r.request_id,
    role: r.role,
    conversationId: r.conversation_id,
    activityId: r.activity_id,
    serviceUrl: r.service_url,
    reference: fromJson<R>(r.reference) as R,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function refFromRow<R>(r: RefRow): NamedConversation<R> {
  return {
    name: r.name,
    conversationId: r.conversation_id,
    serviceUrl: r.service_url,
    tenantId: r.tenant_id,
    reference: fromJson<R>(r.reference) as R,
    updatedAt: r.updated_at,
    updatedBy: r.updated_by,
  };
}

/** A message already recorded as a card of one role was about to be recorded as another (see recordCard). */
export class CardRoleConflict extends Error {
  override readonly name = 'CardRoleConflict';
  constructor(
    readonly conversationId: string,
    readonly activityId: string,
    readonly existingRole: CardRole,
    readonly requestedRole: CardRole,
  ) {
    super(`message ${activityId} in ${conversationId} is recorded as a ${existingRole} card; it cannot become a ${requestedRole} card`);
  }
}

export class CardRepository {
  private readonly q;

  constructor(
    db: Database.Database,
    private readonly clock: Clock,
  ) {
    this.q = {
      upsertCard: db.prepare<Record<string, unknown>, CardRow>(
        `INSERT INTO card_activities (request_id, role, conversation_id, activity_id, service_url, reference, created_at, updated_at)
         VALUES (@requestId, @role, @conversationId, @activityId, @serviceUrl, @reference, @now, @now)
         ON CONFLICT (conversation_id, activity_id) DO UPDATE SET
           request_id = excluded.request_id, service_url = excluded.service_url,
           reference = excluded.reference, updated_at = excluded.updated_at
         WHERE card_activities.role = excluded.role
         RETURNING *`,
      ),
      forRequest: db.prepare<{ requestId: string; role: string | null }, CardRow>(
        `SELECT * FROM card_activities WHERE request_id = @requestId AND (@role IS NULL OR role = @role) ORDER BY id`,
      ),
      byActivity: db.prepare<[string, string], CardRow>('SELECT * FROM card_activities WHERE conversation_id = ? AND activity_id = ?'),
      touch: db.prepare('UPDATE card_activities SET updated_at = ? WHERE id = ?'),
      remove: db.prepare('DELETE FROM card_activities WHERE conversation_id = ? AND activity_id = ?'),
      setRef: db.prepare<Record<string, unknown>, RefRow>(
        `INSERT INTO conversation_refs (name, conversation_id, service_url, tenant_id, reference, updated_at, updated_by)
         VALUES (@name, @conversationId, @serviceUrl, @tenantId, @reference, @now, @updatedBy)
         ON CONFLICT (name) DO UPDATE SET conversation_id = excluded.conversation_id, service_url = excluded.service_url,
           tenant_id = excluded.tenant_id, reference = excluded.reference, updated_at = excluded.updated_at,
           updated_by = excluded.updated_by
         RETURNING *`,
      ),
      getRef: db.prepare<[string], RefRow>('SELECT * FROM conversation_refs WHERE name = ?'),
      listRefs: db.prepare<[string, string], RefRow>('SELECT * FROM conversation_refs WHERE name >= ? AND name < ? ORDER BY name'),
      removeRef: db.prepare('DELETE FROM conversation_refs WHERE name = ?'),
    };
  }

  /**
   * Records a posted card. The same (conversationId, activityId) again updates the row instead of duplicating it — but
   * only in the same role: a message recorded as, say, an approval card can never be re-bound as another kind (a
   * crafted invoke naming its message would otherwise make its buttons refuse every click). Throws CardRoleConflict.
   */
  recordCard<R = unknown>(card: NewCardActivity): CardActivity<R> {
    const row = this.q.upsertCard.get({
      requestId: card.requestId,
      role: card.role,
      conversationId: card.conversationId,
      activityId: card.activityId,
      serviceUrl: card.serviceUrl,
      reference: toJson(card.reference),
      now: toIso(card.now ?? this.clock.now()),
    });
    if (!row) throw new CardRoleConflict(card.conversationId, card.activityId, this.findCard(card.conversationId, card.activityId)?.role ?? '?', card.role);
    return cardFromRow<R>(row);
  }

  /** Every copy of a request's cards (optionally one role), oldest first — e.g. all approval cards to update. */
  listCards<R = unknown>(requestId: string, role?: CardRole): CardActivity<R>[] {
    return this.q.forRequest.all({ requestId, role: role ?? null }).map((r) => cardFromRow<R>(r));
  }

  findCard<R = unknown>(conversationId: string, activityId: string): CardActivity<R> | null {
    const row = this.q.byActivity.get(conversationId, activityId);
    return row ? cardFromRow<R>(row) : null;
  }

  /** Notes that a card was updated (for "last updated" views and stale-card checks). */
  touchCard(id: number, now: Date = this.clock.now()): void {
    this.q.touch.run(toIso(now), id);
  }

  removeCard(conversationId: string, activityId: string): boolean {
    return this.q.remove.run(conversationId, activityId).changes > 0;
  }

  setConversation<R = unknown>(name: string, ref: NewNamedConversation): NamedConversation<R> {
    return refFromRow<R>(
      this.q.setRef.get({
        name,
        conversationId: ref.conversationId,
        serviceUrl: ref.serviceUrl,
        tenantId: ref.tenantId ?? null,
        reference: toJson(ref.reference),
        updatedBy: ref.updatedBy ?? null,
        now: toIso(ref.now ?? this.clock.now()),
      })!,
    );
  }

  getConversation<R = unknown>(name: string): NamedConversation<R> | null {
    const row = this.q.getRef.get(name);
    return row ? refFromRow<R>(row) : null;
  }

  /** Named references whose name starts with `prefix` (e.g. 'user:' for every known 1:1 chat). */
  listConversations<R = unknown>(prefix = ''): NamedConversation<R>[] {
    return this.q.listRefs.all(prefix, `${prefix}\u{10FFFF}`).map((r) => refFromRow<R>(r));
  }

  removeConversation(name: string): boolean {
    return this.q.removeRef.run(name).changes > 0;
  }

  setUserConversation<R = unknown>(aadObjectId: string, ref: NewNamedConversation): NamedConversation<R> {
    return this.setConversation<R>(userConversationName(aadObjectId), ref);
  }

  getUserConversation<R = unknown>(aadObjectId: string): NamedConversation<R> | null {
    return this.getConversation<R>(userConversationName(aadObjectId));
  }
}
