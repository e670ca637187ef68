/** "add sender" when several registrations exist: pick the one whose group gets the new senders. */
import { adaptiveCard, container, execute, factSet, heading, listOrNone, plainText, textBlock } from './elements';
import { escapeMarkdown } from './markdown';
import type { AdaptiveCardJson, CardElement, ChooseRegistrationModel } from './types';

/**
 * Input id of the choice (merged into action.data; the server checks it against its store). Deliberately not
 * `registrationId`, which is a card data key of other verbs.
 */
export const CHOOSE_REGISTRATION_INPUTS = { registration: 'registration' } as const;

export function chooseRegistrationCard(model: ChooseRegistrationModel): AdaptiveCardJson {
  const body: CardElement[] = [
    ...heading('Add sender: choose the registration', `Request ${model.requestId}`),
    factSet([['Senders to add', listOrNone(model.senders)]]),
    textBlock('Each registration has its own sender group. Pick the one Opter uses for these addresses (usually the one for the same domain).', { size: 'Small', subtle: true }),
  ];
  for (const r of model.registrations) {
    body.push(
      container(
        [
          textBlock(escapeMarkdown(r.appDisplayName), { weight: 'Bolder' }),
          factSet([
            ['Client ID', r.appId],
            ['Group SMTP', r.groupSmtp],
            ['Senders now', r.senders ? listOrNone(r.senders) : '(could not be read from the tenant just now)'],
          ]),
        ],
        { style: 'emphasis', spacing: 'Small' },
      ),
    );
  }
  body.push({
    type: 'Input.ChoiceSet',
    id: CHOOSE_REGISTRATION_INPUTS.registration,
    label: 'Registration',
    style: 'expanded',
    isRequired: true,
    errorMessage: 'Choose a registration.',
    ...(model.selectedId ? { value: model.selectedId } : {}),
    choices: model.registrations.map((r) => ({ title: `${r.appDisplayName} (${r.groupSmtp})`, value: r.id })),
  });
  if (model.error) body.push(plainText(`⚠ ${model.error}`, { color: 'Attention', size: 'Small', spacing: 'None' }));
  return adaptiveCard(body, [
    execute('choose-registration', 'Continue', { requestId: model.requestId }, { inputs: 'auto', style: 'positive' }),
    execute('cancel-request', 'Cancel', { requestId: model.requestId }),
  ]);
}
