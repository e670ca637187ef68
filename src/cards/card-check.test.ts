import { describe, expect, it } from 'vitest';
import { checkCard } from './card-check';
import { adaptiveCard, execute } from './elements';
import type { AdaptiveCardJson } from './types';

const ok = () => adaptiveCard([{ type: 'TextBlock', text: 'hello', wrap: true }], [execute('reveal', 'Reveal', { requestId: 'r1' })]);

// The checker is what the card tests lean on, so it must actually fail on each kind of mistake.
describe('checkCard', () => {
  it('accepts a well-formed card', async () => {
    expect(await checkCard(ok())).toEqual([]);
  });

  it('reports a property the parser does not know (typo or newer schema)', async () => {
    const card = ok();
    card.body[0].wrapp = true;
    expect(await checkCard(card)).toEqual([expect.stringContaining('parser dropped /body/0/wrapp')]);
  });

  it('reports unknown element types and version other than 1.5', async () => {
    const card = { ...ok(), version: '1.6', body: [{ type: 'Carousel', pages: [] }] } as unknown as AdaptiveCardJson;
    const problems = await checkCard(card);
    expect(problems).toContain('version is 1.6, expected 1.5');
    expect(problems.some((p) => p.includes('UnknownElementType'))).toBe(true);
  });

  it('reports required inputs without label or error message, and duplicate ids', async () => {
    const card = adaptiveCard([
      { type: 'Input.Text', id: 'a', isRequired: true },
      { type: 'Input.Text', id: 'a', label: 'A' },
    ]);
    const problems = (await checkCard(card)).join('\n');
    expect(problems).toMatch(/RequiredInputsShouldHaveLabel/);
    expect(problems).toMatch(/RequiredInputsShouldHaveErrorMessage/);
    expect(problems).toMatch(/DuplicateId/);
  });

  it('reports verbs outside VERBS, extra or missing data keys, and non-Execute actions', async () => {
    const card = adaptiveCard(
      [],
      [
        { type: 'Action.Execute', title: 'x', verb: 'delete-everything', associatedInputs: 'none' },
        { type: 'Action.Execute', title: 'y', verb: 'approve', data: { requestId: 'r1', approverId: 'me' }, associatedInputs: 'none' },
        { type: 'Action.Execute', title: 'z', verb: 'reveal', data: {}, associatedInputs: 'none' },
        { type: 'Action.Submit', title: 's' } as never,
      ],
    );
    const problems = (await checkCard(card)).join('\n');
    expect(problems).toMatch(/"delete-everything" is not in VERBS/);
    expect(problems).toMatch(/approve data carries "approverId"/);
    expect(problems).toMatch(/reveal data lacks "requestId"/);
    expect(problems).toMatch(/Action.Submit is not allowed/);
  });

  it('reports an input whose id would overwrite action data', async () => {
    const card = adaptiveCard([{ type: 'Input.Text', id: 'requestId', label: 'x' }]);
    expect((await checkCard(card)).join('\n')).toMatch(/input id "requestId" collides/);
  });

  it('reports refresh userIds that are not MRIs, too many, or missing; and any refresh where forbidden', async () => {
    const many = Array.from({ length: 61 }, (_, i) => `29:user${i}`);
    const card = adaptiveCard([], [], { action: execute('refresh-approval', 'r', { requestId: 'r1' }), userIds: [...many, 'aad-object-id'] });
    const problems = (await checkCard(card, { forbidRefresh: true })).join('\n');
    expect(problems).toMatch(/62 entries \(max 60\)/);
    expect(problems).toMatch(/"aad-object-id" is not a user MRI/);
    expect(problems).toMatch(/card carries a refresh/);
    const noIds = { ...adaptiveCard([]), refresh: { action: execute('refresh-approval', 'r', { requestId: 'r1' }) } } as unknown as AdaptiveCardJson;
    expect((await checkCard(noIds)).join('\n')).toMatch(/refresh.userIds missing/);
  });

  it('looks inside ShowCard sub-cards', async () => {
    const card = adaptiveCard([], [{ type: 'Action.ShowCard', title: 'more', card: { type: 'AdaptiveCard', body: [], actions: [{ type: 'Action.Execute', title: 'x', verb: 'nope' }] } }]);
    expect((await checkCard(card)).join('\n')).toMatch(/"nope" is not in VERBS/);
  });
});
