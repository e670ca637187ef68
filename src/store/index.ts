/** The SQLite store: journal, requests, cards, one-time secrets, audit chain, outbox, kv. See store.ts. */
export { openStore, type Store, type StoreOptions } from './store';
export { SqliteJournal } from './journal';
export {
  RequestRepository,
  REQUEST_STATUSES,
  decodePayloadAsStored,
  type DecideInput,
  type DecideOutcome,
  type NewRequest,
  type PayloadDecoder,
  type Person,
  type RequestDecision,
  type RequestKind,
  type RequestPayload,
  type RequestQuery,
  type RequestRecord,
  type RequestStatus,
  type Requester,
} from './requests';
export {
  CardRepository,
  CardRoleConflict,
  AUDIT_CHANNEL,
  APPROVALS_CHANNEL,
  userConversationName,
  type CardActivity,
  type CardRole,
  type NamedConversation,
  type NewCardActivity,
  type NewNamedConversation,
} from './cards';
export {
  SecretVault,
  type Claimant,
  type ClaimResult,
  type PutSecretInput,
  type PutSecretResult,
  type SecretMetadata,
  type SecretState,
} from './secrets';
export {
  AuditLog,
  GENESIS_HASH,
  LEGACY_ANCHOR_ACTION,
  auditEntryHash,
  auditOutboxItem,
  legacyAuditEntryHash,
  type AuditActor,
  type AuditBreak,
  type AuditDelivery,
  type AuditVerifyOptions,
  type ChainVersion,
  type AuditEntry,
  type AuditInput,
  type AuditResult,
  type AuditVerifyResult,
} from './audit';
export { Outbox, type ClaimOptions, type EnqueueInput, type OutboxItem, type OutboxKind, type OutboxStatus } from './outbox';
export { KeyValueStore, type KvEntry } from './kv';
export { degenerateKeyReason, loadOrCreateEncryptionKey, parseEncryptionKey, resolveEncryptionKey, keyFingerprint, deriveAuditChainKey, KEY_FILE_NAME, type LoadKeyOptions, type ResolvedKey } from './key';
export { redact, redactString, isSecretKey, findSecretKeys, SecretRegistry, REDACTED, type RedactOptions } from './redact';
export { MIGRATIONS, migrate, schemaVersion, appliedMigrations, migrationChecksum, type Migration, type AppliedMigration } from './migrations';
export { DB_FILE_NAME } from './db';
export { canonicalJson } from './json';
