/**
 * Every `Action.Execute` verb the cards emit, and the only data keys each verb may carry in its card JSON.
 *
 * Card data is user-controlled on the wire (anyone can forge an invoke), so it only ever names *which* object the
 * click is about — a request id or a registration id — never who is acting, who may act, or any state. The bot
 * routes on these verbs and loads everything else from its store. Inputs typed by the user are merged into
 * `action.data` by Teams under their input ids (see REQUEST_FORM_INPUTS etc.); those are validated server-side.
 */

export const VERBS = {
  /** Help card: open the request form. */
  startSetup: 'start-setup',
  /** Help card: show the status/list card. */
  showStatus: 'status',
  /** Request form: validate and show derived names, nothing is created. */
  checkRequest: 'check-request',
  /** Request form: validate and post the approval card. */
  submitRequest: 'submit-request',
  /** Request form / chooser: drop the draft. */
  cancelRequest: 'cancel-request',
  /** Add sender: the registration was picked (input `registrationId`). */
  chooseRegistration: 'choose-registration',
  approve: 'approve',
  /** Needs the input `reason`. */
  reject: 'reject',
  /** `refresh` of the approval card: returns the viewer-specific view, never changes state. */
  refreshApproval: 'refresh-approval',
  /** Progress card: resume the failed job from its journal. */
  resume: 'resume',
  /** One-time secret card: explicit click by the requester reveals the secret once. */
  reveal: 'reveal',
  /** Revealed card: replace it with the "revealed at … by …" card. */
  hideSecret: 'hide-secret',
  /** Status / after-reveal cards: ask for a new secret for a registration. */
  rotateSecret: 'rotate-secret',
  /** Status card: repair the drift found on a registration. */
  repair: 'repair',
  /** Status card: take over a registration that looks like the script made it. */
  adopt: 'adopt',
  /** Rotation card: the requester says Opter uses the new secret, so the old ones can be removed now. */
  opterUpdated: 'opter-updated',
  /** Expired secret card (delegated mode): remove the never revealed credential from the app with one's own sign-in. */
  removeCredential: 'remove-credential',
} as const;

export type Verb = (typeof VERBS)[keyof typeof VERBS];

export type ActionDataKey = 'requestId' | 'registrationId';

/** The exact keys each verb's `data` carries in the card (all required). Nothing else may appear there. */
export const VERB_DATA_KEYS = {
  'start-setup': [],
  status: [],
  'check-request': ['requestId'],
  'submit-request': ['requestId'],
  'cancel-request': ['requestId'],
  'choose-registration': ['requestId'],
  approve: ['requestId'],
  reject: ['requestId'],
  'refresh-approval': ['requestId'],
  resume: ['requestId'],
  reveal: ['requestId'],
  'hide-secret': ['requestId'],
  'rotate-secret': ['registrationId'],
  repair: ['registrationId'],
  adopt: ['registrationId'],
  'opter-updated': ['requestId'],
  'remove-credential': ['requestId'],
} as const satisfies Record<Verb, readonly ActionDataKey[]>;

export type ActionData<V extends Verb> = { [K in (typeof VERB_DATA_KEYS)[V][number]]: string };

const ALL_VERBS: ReadonlySet<string> = new Set(Object.values(VERBS));

export function isVerb(value: unknown): value is Verb {
  return typeof value === 'string' && ALL_VERBS.has(value);
}

/**
 * The bot's side of the same contract: reads an invoke's `action.data` for a verb, keeping only the verb's keys
 * (non-empty strings) and handing the remaining string values back as user inputs. Returns null when a required
 * key is missing or not a string, so a forged or stale card is refused before any lookup.
 */
export function readActionData<V extends Verb>(
  verb: V,
  raw: unknown,
): { data: ActionData<V>; inputs: Record<string, string> } | null {
  const source = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const keys: readonly string[] = VERB_DATA_KEYS[verb];
  const data: Record<string, string> = {};
  for (const key of keys) {
    const value = source[key];
    if (typeof value !== 'string' || value.trim() === '') return null;
    data[key] = value;
  }
  const inputs: Record<string, string> = {};
  for (const [key, value] of Object.entries(source)) {
    if (keys.includes(key) || key === 'verb') continue;
    // Teams sends every input value as a string; anything else did not come from one of our inputs.
    if (typeof value === 'string') inputs[key] = value;
  }
  return { data: data as ActionData<V>, inputs };
}
