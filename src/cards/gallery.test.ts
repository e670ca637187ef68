import { describe, expect, it } from 'vitest';
import { checkCard, executeActions } from './card-check';
import { VERBS } from './verbs';
import { SAMPLE_SECRET, cardGallery } from './gallery';

const gallery = cardGallery();

describe('every card variant the bot can send', () => {
  it.each(gallery.map((e) => [e.name, e] as const))('%s parses with the official adaptivecards library and keeps the action contract', async (_name, entry) => {
    expect(await checkCard(entry.card, { forbidRefresh: entry.forbidRefresh })).toEqual([]);
    expect(entry.card).toMatchObject({ type: 'AdaptiveCard', version: '1.5' });
  });

  it('puts the secret into the revealed cards and into no other card', () => {
    const withSecret = gallery.filter((e) => JSON.stringify(e.card).includes(SAMPLE_SECRET)).map((e) => e.name);
    expect(withSecret).toEqual(gallery.filter((e) => e.containsSecret).map((e) => e.name));
    expect(withSecret.length).toBeGreaterThan(0);
  });

  it('stays far below the ~28 KB Teams message size', () => {
    for (const e of gallery) expect(Buffer.byteLength(JSON.stringify(e.card)), e.name).toBeLessThan(12_000);
  });

  it('uses every verb somewhere, so none is dead and the bot must route all of them', () => {
    const used = new Set(gallery.flatMap((e) => executeActions(e.card).map((a) => a.verb)));
    expect([...used].sort()).toEqual(Object.values(VERBS).sort());
  });
});
