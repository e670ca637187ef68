/**
 * The "set up Opter email" form. Shown empty (prefilled with the script's defaults), and shown again after
 * "Check"/"Submit" with the server's field-level errors, the derived names, or a name-conflict choice.
 */
import { describeAction, type OpterError } from '../core/errors';
import { DEFAULT_APP_DISPLAY_NAME, DEFAULT_SECRET_VALID_YEARS, nameWarnings } from '../provisioning';
import { parseSenderList } from '../provisioning';
import { actionSet, adaptiveCard, banner, container, execute, factSet, formatUtc, heading, listOrNone, plainText, textBlock, warningBox } from './elements';
import { escapeMarkdown } from './markdown';
import type { AdaptiveCardJson, CardElement, RequestFormField, RequestFormModel, RequestFormValues, ScopingModel } from './types';

/** Input ids = the keys Teams merges into `action.data` on Check/Submit. */
export const REQUEST_FORM_INPUTS = {
  appDisplayName: 'appDisplayName',
  senders: 'senders',
  secretValidYears: 'secretValidYears',
  scoping: 'scoping',
  secretDisplayName: 'secretDisplayName',
  groupName: 'groupName',
  groupAlias: 'groupAlias',
  nameChoice: 'nameChoice',
} as const satisfies Record<RequestFormField, string>;

export const MIN_SECRET_YEARS = 1;
export const MAX_SECRET_YEARS = 10;

export const SCOPING_CHOICES: ReadonlyArray<{ value: ScopingModel; title: string }> = [
  {
    value: 'access-policy',
    title: 'Application Access Policy (default, as in Opter’s script): Graph Mail.Send for the app, limited by Exchange to the sender group.',
  },
  {
    value: 'rbac',
    title: 'RBAC for Applications (Microsoft’s recommended model): an Exchange role scoped to the sender group, no tenant-wide Graph permission.',
  },
];

const OVERRIDES_SECTION_ID = 'overridesSection';
const OVERRIDE_FIELDS = ['secretDisplayName', 'groupName', 'groupAlias'] as const;

export function requestFormCard(model: RequestFormModel): AdaptiveCardJson {
  const values = model.values ?? {};
  const errors = model.errors ?? {};
  const maxYears = model.maxSecretYears ?? MAX_SECRET_YEARS;
  const body: CardElement[] = [
    ...heading('Set up Opter email', 'Registers Opter in Microsoft 365 so it can send email from your mailboxes. Nothing is created until another approver approves.'),
  ];

  if (model.generalError) body.push(banner(escapeMarkdown(model.generalError), 'attention'));
  if (Object.values(errors).some((e) => e)) {
    body.push(banner('Please correct the fields marked below.', 'attention'));
  }

  const existing = model.existingRegistrations ?? [];
  if (existing.length > 0) {
    body.push(
      container(
        [
          textBlock(`Existing Opter registrations: ${existing.map(escapeMarkdown).join(', ')}.`, { weight: 'Bolder' }),
          textBlock(
            'Each domain needs its own registration with its own name, e.g. “OpterMessageProxy-nordics”. To allow more mailboxes on an existing registration, use “add sender” instead.',
            { size: 'Small', spacing: 'None' },
          ),
        ],
        { style: 'emphasis' },
      ),
    );
  }

  body.push({
    type: 'Input.Text',
    id: REQUEST_FORM_INPUTS.appDisplayName,
    label: 'App display name',
    value: values.appDisplayName ?? DEFAULT_APP_DISPLAY_NAME,
    placeholder: DEFAULT_APP_DISPLAY_NAME,
    isRequired: true,
    // Same rule as the server (E_ALIAS_EMPTY): the Exchange alias needs at least one Latin letter or digit.
    regex: '^.*[A-Za-z0-9].*$',
    errorMessage: 'Enter a name with at least one letter or digit (a–z, 0–9).',
    maxLength: 120,
  });
  pushFieldError(body, errors.appDisplayName);

  if (model.nameConflict) {
    const c = model.nameConflict;
    const facts: CardElement[] = [
      textBlock(`“${escapeMarkdown(c.existingName)}” is already used by another registration.`, { weight: 'Bolder', color: 'Warning' }),
    ];
    if (c.appId || c.senders) facts.push(factSet([['Client ID', c.appId], ['Senders', c.senders ? listOrNone(c.senders) : undefined]]));
    facts.push({
      type: 'Input.ChoiceSet',
      id: REQUEST_FORM_INPUTS.nameChoice,
      label: 'What do you want to do?',
      style: 'expanded',
      wrap: true,
      isRequired: true,
      errorMessage: 'Choose whether to reuse the registration or use a new name.',
      ...(values.nameChoice ? { value: values.nameChoice } : {}),
      choices: [
        { title: `Reuse “${c.existingName}”: add the senders below to it`, value: 'reuse' },
        { title: 'Use a new name: change the app display name above', value: 'new' },
      ],
    });
    body.push(container(facts, { style: 'warning' }));
    pushFieldError(body, errors.nameChoice);
  }

  body.push({
    type: 'Input.Text',
    id: REQUEST_FORM_INPUTS.senders,
    label: 'Sender addresses (one per line)',
    isMultiline: true,
    placeholder: 'info@contoso.com\nfaktura@contoso.com',
    isRequired: true,
    errorMessage: 'Enter at least one sender address.',
    ...(values.senders && values.senders.length > 0 ? { value: values.senders.join('\n') } : {}),
  });
  body.push(textBlock('The mailboxes Opter sends from: the office’s email, regions’ email and the invoice address. They must exist already.', { size: 'Small', subtle: true, spacing: 'None' }));
  pushFieldError(body, errors.senders);

  body.push({
    type: 'Input.Number',
    id: REQUEST_FORM_INPUTS.secretValidYears,
    label: 'Secret validity (years)',
    min: MIN_SECRET_YEARS,
    max: maxYears,
    value: Math.min(values.secretValidYears ?? DEFAULT_SECRET_VALID_YEARS, maxYears),
    isRequired: true,
    errorMessage: `Enter a whole number of years from ${MIN_SECRET_YEARS} to ${maxYears}.`,
  });
  const policyNote = model.tenantMaxSecretLifetime
    ? `Your tenant’s app-management policy allows at most ${model.tenantMaxSecretLifetime}; a longer validity is shortened to that.`
    : 'Your tenant’s app-management policy may shorten it; the approval card shows the actual expiry.';
  body.push(textBlock(policyNote, { size: 'Small', subtle: true, spacing: 'None' }));
  pushFieldError(body, errors.secretValidYears);

  body.push({
    type: 'Input.ChoiceSet',
    id: REQUEST_FORM_INPUTS.scoping,
    label: 'How the app is limited to the sender mailboxes',
    style: 'expanded',
    wrap: true, // long choice titles are cut off in Teams without it
    isRequired: true,
    errorMessage: 'Choose a scoping model.',
    value: values.scoping ?? 'access-policy',
    choices: SCOPING_CHOICES.map((c) => ({ title: c.title, value: c.value })),
  });
  pushFieldError(body, errors.scoping);

  // Overrides stay folded unless the admin already used them or one of them needs fixing.
  const overridesOpen = OVERRIDE_FIELDS.some((f) => values[f] || errors[f]);
  body.push(actionSet([{ type: 'Action.ToggleVisibility', title: 'Name overrides (optional)', targetElements: [OVERRIDES_SECTION_ID] }], 'Small'));
  const overrideItems: CardElement[] = [
    textBlock('Leave empty to derive the names from the app name, exactly like Opter’s script.', { size: 'Small', subtle: true }),
  ];
  const overrideInputs: Array<[(typeof OVERRIDE_FIELDS)[number], string, string]> = [
    ['secretDisplayName', 'Secret display name', 'optermessageproxy-secret'],
    ['groupName', 'Group name', 'OpterMessageProxy - MailSend Allowed'],
    ['groupAlias', 'Group alias', 'optermessageproxy-mailsend-allowed'],
  ];
  for (const [field, label, example] of overrideInputs) {
    overrideItems.push({
      type: 'Input.Text',
      id: REQUEST_FORM_INPUTS[field],
      label,
      placeholder: model.derived ? derivedValue(model, field) : example,
      maxLength: 64,
      ...(values[field] ? { value: values[field] } : {}),
    });
    pushFieldError(overrideItems, errors[field]);
  }
  body.push(container(overrideItems, { id: OVERRIDES_SECTION_ID, hidden: !overridesOpen, spacing: 'None' }));

  if (model.derived) {
    const d = model.derived;
    const items: CardElement[] = [
      textBlock('Names that will be used', { weight: 'Bolder' }),
      textBlock('Nothing has been created yet.', { size: 'Small', subtle: true, spacing: 'None' }),
      factSet([
        ['Group name', d.groupName],
        ['Group alias', d.groupAlias],
        ['Group SMTP', d.groupSmtp],
        ['Secret name', d.secretDisplayName],
        ['Secret expires', d.secretExpiresAt ? formatUtc(d.secretExpiresAt) + (d.secretClamped ? ' (shortened by tenant policy)' : '') : undefined],
      ]),
    ];
    body.push(container(items, { style: 'emphasis', spacing: 'Medium' }));
    body.push(...warningBox(nameWarnings([['app display name', values.appDisplayName], ['group name', d.groupName], ['secret name', d.secretDisplayName]])));
  }

  const requestId = model.requestId;
  return adaptiveCard(body, [
    execute('check-request', 'Check', { requestId }, { inputs: 'auto' }),
    execute('submit-request', 'Submit for approval', { requestId }, { inputs: 'auto', style: 'positive' }),
    execute('cancel-request', 'Cancel', { requestId }),
  ]);
}

function derivedValue(model: RequestFormModel, field: (typeof OVERRIDE_FIELDS)[number]): string {
  const d = model.derived!;
  return field === 'secretDisplayName' ? d.secretDisplayName : field === 'groupName' ? d.groupName : d.groupAlias;
}

function pushFieldError(target: CardElement[], message: string | undefined): void {
  if (message) target.push(plainText(`⚠ ${message}`, { color: 'Attention', size: 'Small', spacing: 'None' }));
}

/**
 * Reads the form's inputs (as Teams sends them: all strings) into typed values. Only shape problems are reported
 * here; names, domains and mailboxes are validated by the server against the tenant.
 */
export function readRequestForm(inputs: Record<string, string>): { values: Partial<RequestFormValues>; errors: Partial<Record<RequestFormField, string>> } {
  const values: Partial<RequestFormValues> = {};
  const errors: Partial<Record<RequestFormField, string>> = {};
  const get = (field: RequestFormField) => (inputs[REQUEST_FORM_INPUTS[field]] ?? '').trim();

  const name = get('appDisplayName');
  if (name === '') errors.appDisplayName = 'Enter an app display name.';
  else values.appDisplayName = name;

  const senders = parseSenderList(inputs[REQUEST_FORM_INPUTS.senders] ?? '');
  if (senders.length === 0) errors.senders = 'Enter at least one sender address.';
  else values.senders = senders;

  const yearsText = get('secretValidYears');
  const years = yearsText === '' ? DEFAULT_SECRET_VALID_YEARS : Number(yearsText);
  if (!Number.isInteger(years) || years < MIN_SECRET_YEARS || years > MAX_SECRET_YEARS) {
    errors.secretValidYears = `Enter a whole number of years from ${MIN_SECRET_YEARS} to ${MAX_SECRET_YEARS}.`;
  } else values.secretValidYears = years;

  const scoping = get('scoping') || 'access-policy';
  if (scoping === 'access-policy' || scoping === 'rbac') values.scoping = scoping;
  else errors.scoping = 'Choose a scoping model.';

  for (const field of OVERRIDE_FIELDS) {
    const v = get(field);
    if (v !== '') values[field] = v;
  }

  const choice = get('nameChoice');
  if (choice === 'reuse' || choice === 'new') values.nameChoice = choice;
  else if (choice !== '') errors.nameChoice = 'Choose whether to reuse the registration or use a new name.';

  return { values, errors };
}

/** Field names the engine and validators put on OpterError.field, mapped to the form's inputs. */
const ERROR_FIELD_ALIASES: Record<string, RequestFormField> = { appName: 'appDisplayName', sender: 'senders' };

/**
 * Where a server-side validation error goes on the form, and what it says. Unknown fields (or none) go to the top.
 * For E_INPUT_INVALID the detail is the useful part; for the other codes the catalogue action (detail filled in).
 */
export function formErrorFor(error: Pick<OpterError, 'code' | 'detail' | 'field' | 'action'>): { field: RequestFormField | null; message: string } {
  // The detail names the offending value (which address, how long); the action says what to do about it.
  const action = describeAction(error.code, error.detail, 'form');
  const message = !error.detail ? action : error.code === 'E_INPUT_INVALID' ? error.detail : action.includes(error.detail) ? action : `${error.detail} ${action}`;
  const raw = error.field;
  const field = raw === undefined ? null : (ERROR_FIELD_ALIASES[raw] ?? (raw in REQUEST_FORM_INPUTS ? (raw as RequestFormField) : null));
  return { field, message };
}
