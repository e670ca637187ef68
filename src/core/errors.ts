/**
 * The one error catalogue. Cards, the CLI (exit codes) and audit lines all speak these codes, so a code once
 * published never changes meaning. Each entry says what went wrong and what the admin should do about it.
 */

export type ErrorCategory = 'input' | 'permission' | 'transient' | 'conflict' | 'internal' | 'unfinished' | 'policy';

export interface CatalogueEntry {
  readonly category: ErrorCategory;
  readonly title: string;
  /**
   * What the admin should do. `{detail}` is filled from the error; `{retry}` / `{Retry}` (at a sentence start) with how
   * "do it again" is done where the text is shown (RETRY_IN), so no text offers a button the place does not have.
   */
  readonly action: string;
  /** A different action for one place, where the general one would not fit (e.g. the form's marked fields). */
  readonly actionIn?: Partial<Record<ErrorPlace, string>>;
}

/**
 * Where an error is shown. Each place offers different means: a form has marked fields, a progress card a Retry
 * button, a chat only a new message, the CLI its commands.
 */
export type ErrorPlace = 'chat' | 'card' | 'form' | 'progress' | 'cli' | 'cli-job';

/** "Do it again", said for each place (lower case; `{Retry}` capitalises it). */
export const RETRY_IN: Record<ErrorPlace, string> = {
  chat: 'send the message again',
  card: 'press the button again',
  form: 'submit the form again',
  progress: 'press Retry',
  cli: 'run the command again',
  'cli-job': 'run “opter-mail resume”',
};

/** The place `OpterError.action` describes when none is named: words that need no particular button. */
const ANY_PLACE_RETRY = 'try again';

export const ERROR_CATALOGUE = {
  // --- input -------------------------------------------------------------------------------------------------
  E_INPUT_INVALID: {
    category: 'input',
    title: 'The request is not valid',
    action: 'Change what the reason says, then {retry}.',
    actionIn: { form: 'Correct the fields marked below and submit again.' },
  },
  E_ALIAS_EMPTY: {
    category: 'input',
    title: 'No Exchange alias can be derived from the app name',
    action: 'Use an app name that contains at least one Latin letter or digit (a–z, 0–9), e.g. "OpterMessageProxy".',
  },
  E_SENDER_INVALID: { category: 'input', title: 'A sender address is not a valid email address', action: 'Correct the address and {retry}.' },
  E_SENDER_DUPLICATE: { category: 'input', title: 'A sender address is listed twice', action: 'List each address once.' },
  E_SENDER_FOREIGN_DOMAIN: {
    category: 'input',
    title: 'A sender address is not in one of the tenant’s accepted domains',
    action: 'Use addresses in one of the tenant’s accepted domains, or add the domain in Exchange first.',
  },
  E_SENDER_NOT_MAILBOX: {
    category: 'input',
    title: 'A sender address is not an existing mailbox',
    action: 'Create the mailbox (user or shared) first, or correct the address.',
  },
  E_APP_NAME_AMBIGUOUS: {
    category: 'conflict',
    title: 'Several app registrations already carry this name',
    action: 'Pick a different app name, or remove the duplicates in Entra ID (App registrations) first: {detail}.',
  },
  // A group belongs to exactly one registration: names that normalise alike must not share one (docs/security.md).
  E_GROUP_OTHER_REGISTRATION: {
    category: 'input',
    title: 'The sender group belongs to another registration',
    action: 'Give this registration a group of its own: {detail}.',
  },
  E_GROUP_NOT_RECORDED: {
    category: 'input',
    title: 'The sender group exists, but nothing on record says it belongs to this registration',
    action:
      'If it is this registration’s group (made by regmsgraph.ps1 or by hand), adopt the registration first ("adopt", approved like any request), then ask again; otherwise give this registration a group of its own: {detail}.',
  },
  E_SECRET_LIFETIME_POLICY: {
    category: 'policy',
    title: 'The tenant’s app-management policy does not allow this secret',
    action: 'Ask a Global Administrator to allow client secrets for this app, or shorten the validity: {detail}.',
  },
  E_SECRETS_BLOCKED_BY_POLICY: {
    category: 'policy',
    title: 'The tenant’s app-management policy forbids client secrets for this app',
    action:
      'Nothing was created. Opter signs in with a client secret, so a Global Administrator or Application Administrator must exempt this app: create an app management policy without the passwordAddition restriction and assign it to the app registration (an assigned policy replaces the tenant default), or narrow the tenant default’s passwordAddition restriction; then retry. See docs/permissions.md, "Tenants that forbid client secrets". {detail}',
  },
  // --- permission --------------------------------------------------------------------------------------------
  E_GRAPH_PERMISSION: {
    category: 'permission',
    title: 'The provisioning identity lacks a Microsoft Graph permission',
    action:
      'Grant the provisioning app the Graph application permission {detail} with admin consent (see docs/permissions.md), then {retry}.',
  },
  E_EXCHANGE_PERMISSION: {
    category: 'permission',
    title: 'The provisioning identity may not run this Exchange Online command',
    action:
      'Give the provisioning app Exchange.ManageAsApp and the Exchange Administrator role (see docs/permissions.md), then {retry}. {detail}',
  },
  E_AUTH_FAILED: {
    category: 'permission',
    title: 'The provisioning identity could not sign in',
    action: 'Check AZURE_TENANT_ID, AZURE_CLIENT_ID and the secret or certificate: {detail}.',
  },
  // --- transient (only surface when retries are exhausted) -----------------------------------------------------
  E_THROTTLED: { category: 'transient', title: 'Microsoft is throttling requests', action: 'Wait a few minutes, then {retry}.' },
  E_SERVICE_UNAVAILABLE: {
    category: 'transient',
    title: 'Microsoft 365 did not answer',
    action: 'Microsoft 365 is unavailable or unreachable; {retry} later. {detail}',
  },
  E_REPLICATION_TIMEOUT: {
    category: 'transient',
    title: 'Microsoft did not finish replicating a new object in time',
    action: 'New objects usually appear within minutes; {retry} to continue where it stopped. {detail}',
  },
  // --- conflict / state --------------------------------------------------------------------------------------
  E_GROUP_CONFLICT: {
    category: 'conflict',
    title: 'The group name or alias is taken by another recipient',
    action: 'Choose another group name/alias, or remove the conflicting recipient: {detail}.',
  },
  E_ROLE_ASSIGNMENT_UNCLEAR: {
    category: 'conflict',
    title: 'A role assignment with this app’s name exists, but Exchange does not say whose it is',
    action:
      'Nothing was changed. Check it with Get-ManagementRoleAssignment -Identity "{detail}": remove it if it does not belong to this app, then {retry}.',
  },
  E_NOT_FOUND: { category: 'conflict', title: 'An object disappeared while we worked on it', action: 'Someone may have removed or renamed it: {detail}' },
  E_VERIFY_FAILED: {
    category: 'conflict',
    title: 'The setup was created, but a verification check failed',
    action: 'See the failed check: {detail}. {Retry} to repair and verify again.',
  },
  E_JOB_UNFINISHED: { category: 'unfinished', title: 'The job is not finished yet', action: '{Retry} to finish it.' },
  // --- delegated execution (docs/delegated-mode.md) -------------------------------------------------------
  E_APPROVER_NEEDED: {
    category: 'unfinished',
    title: 'The next change needs the approver’s sign-in',
    action: 'An approver presses Continue on the approval card: their own sign-in makes the next change, and nothing is done twice. {detail}',
    actionIn: {
      cli: 'This bot changes the tenant only with the approver’s own sign-in: the approver continues the job in Teams. {detail}',
      'cli-job': 'This bot changes the tenant only with the approver’s own sign-in: the approver continues the job in Teams. {detail}',
    },
  },
  E_APPROVER_ROLES: {
    category: 'permission',
    title: 'Your Entra roles do not allow this change',
    action: 'Ask an approver who holds them to do it instead. {detail}',
  },
  E_SIGN_IN_REFUSED: {
    category: 'permission',
    title: 'Your Teams sign-in could not be used',
    action: 'Sign in to Teams again (or ask your admin to consent the bot’s delegated permissions), then {retry}. {detail}',
  },
  // --- request lifecycle (bot) -----------------------------------------------------------------------------
  E_NOT_ADMIN: { category: 'permission', title: 'Only configured admins may do this', action: 'Ask an admin listed in ADMINS to make the request.' },
  E_NOT_APPROVER: { category: 'permission', title: 'Only configured approvers may decide', action: 'Ask an approver listed in APPROVERS.' },
  E_SELF_APPROVAL: {
    category: 'permission',
    title: 'You cannot approve your own request',
    action: 'Another approver must decide (four-eyes rule).',
  },
  E_TENANT_NOT_ALLOWED: { category: 'permission', title: 'This tenant may not use the bot', action: 'Use the bot from the configured tenant.' },
  E_REQUEST_NOT_FOUND: { category: 'conflict', title: 'The request does not exist', action: 'Start a new request.' },
  E_REQUEST_NOT_PENDING: { category: 'conflict', title: 'The request was already decided', action: 'No action needed. {detail}' },
  E_REQUEST_EXPIRED: { category: 'conflict', title: 'The request expired before it was approved', action: 'Start a new request.' },
  E_SECRET_ALREADY_REVEALED: {
    category: 'conflict',
    title: 'The secret was already revealed',
    action: 'It was revealed at {detail}. If it was lost, ask for a new secret.',
  },
  E_SECRET_EXPIRED: {
    category: 'conflict',
    title: 'The secret was never revealed and has expired',
    action: 'It was removed from the app. Ask for a new secret.',
  },
  E_NOT_REQUESTER: { category: 'permission', title: 'Only the requester can do this', action: 'Ask the person who made the request.' },
  E_SELF_REJECTION: {
    category: 'permission',
    title: 'You cannot reject your own request',
    action: 'Another approver must decide (four-eyes rule); a request nobody approves expires by itself.',
  },
  E_ACTION_NOT_CLICKED: {
    category: 'input',
    title: 'Nothing was done: this was a card refresh, not a click',
    action: 'A refresh never reveals a secret or decides a request; only a click does: {retry}.',
  },
  E_CHANNEL_PINNED: {
    category: 'policy',
    title: 'This channel is fixed by the bot’s configuration',
    action: 'Change {detail} in the bot’s configuration (docs/configuration.md) and restart it; a chat command cannot move it.',
  },
  // --- audit -------------------------------------------------------------------------------------------------
  E_AUDIT_KEY_MISSING: {
    category: 'input',
    title: 'The audit chain key is not available',
    action:
      'Set SECRET_ENCRYPTION_KEY to the bot’s key (without it, the key file DATA_DIR/secret.key of local mode is used), then run the command again.',
  },
  E_AUDIT_CHAIN_BROKEN: {
    category: 'conflict',
    title: 'The audit log does not verify',
    action:
      'Entries were changed, removed or re-hashed ({detail}). Compare with the audit channel, keep a copy of DATA_DIR for the investigation, and find out who could write it (docs/security.md).',
  },
  // --- internal ----------------------------------------------------------------------------------------------
  E_INTERNAL: {
    category: 'internal',
    title: 'Unexpected error',
    action: '{Retry}; if it persists, check the bot log for {detail}.',
    actionIn: { cli: '{Retry}; if it persists, report this message: {detail}.', 'cli-job': '{Retry}; if it persists, report this message: {detail}.' },
  },
  // --- lifecycle (issue 6) -----------------------------------------------------------------------------------
  E_EXCHANGE_CUSTOMIZATION_PENDING: {
    category: 'transient',
    title: 'Exchange Online is still enabling organization customization',
    action:
      'The tenant was dehydrated, so Enable-OrganizationCustomization was run; Microsoft can take hours to finish it and RBAC role assignments are refused until then. {Retry} later. {detail}',
  },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export interface OpterErrorOptions {
  /** Free text filled into the catalogue action and shown to admins. Must never contain a secret. */
  detail?: string;
  /** True when retrying the same call later can succeed (throttling, replication, outage). */
  transient?: boolean;
  /** Server-requested wait (Retry-After), in ms. */
  retryAfterMs?: number;
  /** Human reason for a retry, e.g. "waiting for Microsoft to replicate the new service principal". */
  retryReason?: string;
  /** HTTP status of the underlying call, if any. */
  status?: number;
  /** Field the error is about (cards show it next to that input). */
  field?: string;
  /** E_JOB_UNFINISHED: the job waits until this time (ISO-8601); running it again then can finish it. */
  resumeAfter?: string;
  cause?: unknown;
}

export class OpterError extends Error {
  readonly code: ErrorCode;
  readonly detail?: string;
  readonly transient: boolean;
  readonly retryAfterMs?: number;
  readonly retryReason?: string;
  readonly status?: number;
  readonly field?: string;
  readonly resumeAfter?: string;

  constructor(code: ErrorCode, options: OpterErrorOptions = {}) {
    super(`${code}: ${ERROR_CATALOGUE[code].title}${options.detail ? ` — ${options.detail}` : ''}`, { cause: options.cause });
    this.name = 'OpterError';
    this.code = code;
    this.detail = options.detail;
    this.transient = options.transient ?? ERROR_CATALOGUE[code].category === 'transient';
    this.retryAfterMs = options.retryAfterMs;
    this.retryReason = options.retryReason;
    this.status = options.status;
    this.field = options.field;
    this.resumeAfter = options.resumeAfter;
  }

  /** Title and detail without the code, for people (cards, CLI lines); `message` keeps the code for logs. */
  get summary(): string {
    return this.detail ? `${ERROR_CATALOGUE[this.code].title}: ${this.detail}` : ERROR_CATALOGUE[this.code].title;
  }

  get category(): ErrorCategory {
    return ERROR_CATALOGUE[this.code].category;
  }

  /** The action text with {detail} filled in, in words that fit any place (cards and the CLI use `actionIn`). */
  get action(): string {
    return describeAction(this.code, this.detail);
  }

  /** The action text for where it is shown. */
  actionIn(place: ErrorPlace): string {
    return describeAction(this.code, this.detail, place);
  }
}

const capitalised = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** The catalogue action for `code` with the detail and the place's way to retry filled in (no place: any place). */
export function describeAction(code: ErrorCode, detail?: string, place?: ErrorPlace): string {
  const entry: CatalogueEntry = ERROR_CATALOGUE[code];
  const retry = place ? RETRY_IN[place] : ANY_PLACE_RETRY;
  return ((place && entry.actionIn?.[place]) ?? entry.action)
    .replace('{detail}', detail ?? '')
    .replace('{Retry}', capitalised(retry))
    .replace('{retry}', retry)
    .replace(/\s+([.:;])/g, '$1')
    .replace(/([.:;])\1+/g, '$1')
    .replace(/[:;]\./g, '.')
    .trim()
    .replace(/[:;]$/, '.');
}

export function isOpterError(e: unknown): e is OpterError {
  return e instanceof OpterError;
}

/** Any thrown value as an OpterError (unknown errors become E_INTERNAL, keeping only their message). */
export function toOpterError(e: unknown): OpterError {
  if (e instanceof OpterError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new OpterError('E_INTERNAL', { detail: message.slice(0, 300), cause: e });
}

/** CLI exit codes by category: 0 success, 2 bad input, 3 permission, 4 unfinished/transient, 5 conflict/verify, 1 other. */
export function exitCodeFor(code: ErrorCode): number {
  switch (ERROR_CATALOGUE[code].category) {
    case 'input':
      return 2;
    case 'permission':
    case 'policy':
      return 3;
    case 'transient':
    case 'unfinished':
      return 4;
    case 'conflict':
      return 5;
    default:
      return 1;
  }
}
