import { describe, expect, it } from 'vitest';
import { checkCard, warningBoxes, executeActions, findNodes, inputIds, renderedTexts } from './card-check';
import { OpterError } from '../core/errors';
import { REQUEST_FORM_INPUTS, formErrorFor, readRequestForm, requestFormCard } from './request-form';

const input = (card: unknown, id: string) => findNodes(card, (n) => typeof n.type === 'string' && n.type.startsWith('Input.') && n.id === id)[0];
const overrides = (card: unknown) => findNodes(card, (n) => n.id === 'overridesSection')[0];

describe('requestFormCard', () => {
  const fresh = requestFormCard({ requestId: 'r1' });

  it('prefills the script’s defaults', () => {
    expect(input(fresh, 'appDisplayName')).toMatchObject({ type: 'Input.Text', value: 'OpterMessageProxy', isRequired: true });
    expect(input(fresh, 'senders')).toMatchObject({ type: 'Input.Text', isMultiline: true, isRequired: true });
    expect(input(fresh, 'secretValidYears')).toMatchObject({ type: 'Input.Number', value: 10, min: 1, max: 10 });
    expect(input(fresh, 'scoping')).toMatchObject({ type: 'Input.ChoiceSet', value: 'access-policy' });
    expect((input(fresh, 'scoping').choices as Array<{ value: string }>).map((c) => c.value)).toEqual(['access-policy', 'rbac']);
    expect(renderedTexts(fresh).some((t) => /policy may shorten it/.test(t))).toBe(true);
  });

  it('has exactly the form’s inputs, each named as REQUEST_FORM_INPUTS says', () => {
    expect(inputIds(fresh).sort()).toEqual(['appDisplayName', 'groupAlias', 'groupName', 'scoping', 'secretDisplayName', 'secretValidYears', 'senders']);
    const withConflict = requestFormCard({ requestId: 'r1', nameConflict: { existingName: 'OpterMessageProxy' } });
    expect(inputIds(withConflict)).toContain(REQUEST_FORM_INPUTS.nameChoice);
  });

  it('offers Check, Submit for approval (both validate inputs) and Cancel (does not)', () => {
    expect(executeActions(fresh).map((a) => [a.title, a.verb, a.associatedInputs, a.data])).toEqual([
      ['Check', 'check-request', 'auto', { requestId: 'r1' }],
      ['Submit for approval', 'submit-request', 'auto', { requestId: 'r1' }],
      ['Cancel', 'cancel-request', 'none', { requestId: 'r1' }],
    ]);
  });

  it('keeps the name overrides folded until they are used or wrong', () => {
    expect(overrides(fresh).isVisible).toBe(false);
    expect(findNodes(fresh, (n) => n.type === 'Action.ToggleVisibility')[0].targetElements).toEqual(['overridesSection']);
    expect(overrides(requestFormCard({ requestId: 'r1', values: { groupName: 'Opter senders' } }))).not.toHaveProperty('isVisible');
    expect(overrides(requestFormCard({ requestId: 'r1', errors: { groupAlias: 'taken' } }))).not.toHaveProperty('isVisible');
  });

  it('re-shows the submitted values with each server error right under its field', async () => {
    const card = requestFormCard({
      requestId: 'r1',
      values: { appDisplayName: 'Opter CE', senders: ['a@contoso.com', 'b@fabrikam.com'], secretValidYears: 3, scoping: 'rbac' },
      errors: { senders: 'b@fabrikam.com is not in an accepted domain', appDisplayName: 'Name already used' },
    });
    expect(await checkCard(card)).toEqual([]);
    expect(input(card, 'senders').value).toBe('a@contoso.com\nb@fabrikam.com');
    expect(input(card, 'secretValidYears').value).toBe(3);
    expect(input(card, 'scoping').value).toBe('rbac');
    const body = card.body;
    const sendersAt = body.findIndex((e) => e.id === 'senders');
    const errorAfterSenders = body.slice(sendersAt + 1, sendersAt + 3).map((e) => JSON.stringify(e)).join();
    expect(errorAfterSenders).toContain('b@fabrikam.com is not in an accepted domain');
    const nameAt = body.findIndex((e) => e.id === 'appDisplayName');
    expect(JSON.stringify(body[nameAt + 1])).toContain('Name already used');
    expect(renderedTexts(card)).toContain('Please correct the fields marked below.');
  });

  it('tells the admin that each domain needs its own name when registrations exist', () => {
    const card = requestFormCard({ requestId: 'r1', existingRegistrations: ['OpterMessageProxy', 'OpterMessageProxy-nordics'] });
    const texts = renderedTexts(card).join('\n');
    expect(texts).toContain('OpterMessageProxy, OpterMessageProxy-nordics');
    expect(texts).toMatch(/Each domain needs its own registration/);
    expect(renderedTexts(fresh).join('\n')).not.toMatch(/Each domain needs/);
  });

  it('offers reuse vs. a new name when the name belongs to another registration', () => {
    const card = requestFormCard({ requestId: 'r1', nameConflict: { existingName: 'OpterMessageProxy', appId: 'app-1', senders: ['info@contoso.com'] } });
    const choice = input(card, 'nameChoice');
    expect(choice).toMatchObject({ type: 'Input.ChoiceSet', isRequired: true, style: 'expanded' });
    expect((choice.choices as Array<{ value: string }>).map((c) => c.value)).toEqual(['reuse', 'new']);
    expect(renderedTexts(card).join('\n')).toContain('“OpterMessageProxy” is already used by another registration.');
  });

  it('previews the derived names, saying nothing was created yet', () => {
    const card = requestFormCard({
      requestId: 'r1',
      derived: { groupName: 'OpterMessageProxy - MailSend Allowed', groupAlias: 'optermessageproxy-mailsend-allowed', secretDisplayName: 'optermessageproxy-secret', secretExpiresAt: '2028-03-02T14:00:00Z', secretClamped: true },
    });
    const facts = findNodes(card, (n) => n.type === 'FactSet').flatMap((f) => f.facts as Array<{ title: string; value: string }>);
    expect(facts).toEqual(
      expect.arrayContaining([
        { title: 'Group name', value: 'OpterMessageProxy - MailSend Allowed' },
        { title: 'Group alias', value: 'optermessageproxy-mailsend-allowed' },
        { title: 'Secret name', value: 'optermessageproxy-secret' },
        { title: 'Secret expires', value: '2 March 2028, 14:00 UTC (shortened by tenant policy)' },
      ]),
    );
    expect(renderedTexts(card)).toContain('Nothing has been created yet.');
  });

  it('warns next to the derived names when the typed name mixes scripts', () => {
    const derived = { groupName: 'Pr\u043exy - MailSend Allowed', groupAlias: 'prxy-mailsend-allowed', secretDisplayName: 'prxy-secret' };
    const card = requestFormCard({ requestId: 'r1', values: { appDisplayName: 'Pr\u043exy' }, derived });
    const boxes = warningBoxes(card);
    expect(boxes.map((b) => renderedTexts(b))).toEqual([['⚠ The app display name contains Cyrillic letters: \u043e (U+043E), mixed with Latin letters. Look-alike letters can make it read as another name.']]);
    expect(warningBoxes(requestFormCard({ requestId: 'r1', values: { appDisplayName: 'Proxy' }, derived: { ...derived, groupName: 'Proxy - MailSend Allowed' } }))).toEqual([]);
  });

  it('clamps the validity input to the tenant maximum when one is given', () => {
    const card = requestFormCard({ requestId: 'r1', maxSecretYears: 2, tenantMaxSecretLifetime: 'P2Y' });
    expect(input(card, 'secretValidYears')).toMatchObject({ value: 2, max: 2 });
    expect(renderedTexts(card).join('\n')).toContain('allows at most P2Y');
  });
});

describe('readRequestForm', () => {
  it('reads the inputs Teams sends (all strings) into typed values', () => {
    expect(
      readRequestForm({ appDisplayName: ' OpterMessageProxy ', senders: 'info@contoso.com\r\nfaktura@contoso.com, x@contoso.com', secretValidYears: '5', scoping: 'rbac', groupAlias: 'opter', nameChoice: 'reuse' }),
    ).toEqual({
      values: { appDisplayName: 'OpterMessageProxy', senders: ['info@contoso.com', 'faktura@contoso.com', 'x@contoso.com'], secretValidYears: 5, scoping: 'rbac', groupAlias: 'opter', nameChoice: 'reuse' },
      errors: {},
    });
  });

  it('defaults validity and scoping, and reports shape errors per field', () => {
    expect(readRequestForm({ appDisplayName: 'A', senders: 'a@b.se' }).values).toMatchObject({ secretValidYears: 10, scoping: 'access-policy' });
    const { errors } = readRequestForm({ appDisplayName: '', senders: ' ', secretValidYears: '11', scoping: 'everything', nameChoice: 'maybe' });
    expect(Object.keys(errors).sort()).toEqual(['appDisplayName', 'nameChoice', 'scoping', 'secretValidYears', 'senders']);
    expect(readRequestForm({ appDisplayName: 'A', senders: 'a@b.se', secretValidYears: '2.5' }).errors.secretValidYears).toBeDefined();
  });
});

describe('formErrorFor', () => {
  it('puts engine errors on the right input: appName → appDisplayName, senders → senders', () => {
    expect(formErrorFor(new OpterError('E_INPUT_INVALID', { detail: 'The app display name is 130 characters; use at most 120.', field: 'appName' }))).toEqual({
      field: 'appDisplayName',
      message: 'The app display name is 130 characters; use at most 120.',
    });
    expect(formErrorFor(new OpterError('E_SENDER_FOREIGN_DOMAIN', { detail: 'a@contoso.com is not in an accepted domain.', field: 'senders' }))).toEqual({
      field: 'senders',
      message: 'a@contoso.com is not in an accepted domain. Use addresses in one of the tenant’s accepted domains, or add the domain in Exchange first.',
    });
    expect(formErrorFor(new OpterError('E_INPUT_INVALID', { detail: 'too long', field: 'groupName' })).field).toBe('groupName');
  });

  it('sends errors without a known field to the top of the form', async () => {
    const e = formErrorFor(new OpterError('E_APP_NAME_AMBIGUOUS', { detail: 'two apps named X' }));
    expect(e.field).toBeNull();
    const card = requestFormCard({ requestId: 'r1', generalError: e.message });
    expect(await checkCard(card)).toEqual([]);
    expect(renderedTexts(card).join('\n')).toContain('remove the duplicates in Entra ID (App registrations) first: two apps named X.');
    expect(formErrorFor(new OpterError('E_INPUT_INVALID', { detail: 'x', field: 'somethingElse' })).field).toBeNull();
  });
});
