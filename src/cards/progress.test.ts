import { describe, expect, it } from 'vitest';
import { checkCard, executeActions, findNodes, renderedTexts } from './card-check';
import { sampleProgress } from './gallery';
import { applyProgressEvent, newProgress, progressCard } from './progress';

const at = (s: number) => new Date(Date.UTC(2026, 2, 2, 14, 0, s)).toISOString();
const base = () => newProgress({ requestId: 'r1', title: 'Setting up X', steps: [{ id: 'app', title: 'App registration' }, { id: 'sp', title: 'Service principal' }], at: at(0) });

describe('applyProgressEvent', () => {
  it('starts with every planned step pending and does not modify its input', () => {
    const m = base();
    expect(m.steps.map((s) => s.state)).toEqual(['pending', 'pending']);
    const next = applyProgressEvent(m, { type: 'step-started', jobId: 'j', step: 'app', at: at(1) });
    expect(m.steps[0].state).toBe('pending');
    expect(next.steps[0].state).toBe('running');
    expect(next.updatedAt).toBe(at(1));
  });

  it('records retries with attempt, reason and the next try time', () => {
    const m = applyProgressEvent(base(), { type: 'step-retrying', jobId: 'j', step: 'sp', attempt: 3, reason: 'waiting for Microsoft to replicate the new service principal', waitMs: 8000, at: at(10) });
    expect(m.steps[1]).toEqual({ id: 'sp', title: 'Service principal', state: 'retrying', attempt: 3, reason: 'waiting for Microsoft to replicate the new service principal', nextAttemptAt: at(18) });
  });

  it('records a failure on the step and on the job; a resume clears the job failure and the step restarts clean', () => {
    let m = applyProgressEvent(base(), { type: 'step-failed', jobId: 'j', step: 'sp', code: 'E_THROTTLED', message: '429', action: 'Wait a few minutes, then try again.', at: at(5) });
    m = applyProgressEvent(m, { type: 'job-finished', jobId: 'j', status: 'failed', at: at(5) });
    expect(m.status).toBe('failed');
    // The engine's words fit any place; this card has a Retry button, so it names it.
    expect(m.failure).toEqual({ code: 'E_THROTTLED', message: '429', action: 'Wait a few minutes, then press Retry.' });
    m = applyProgressEvent(m, { type: 'job-started', jobId: 'j', at: at(30) });
    expect(m.status).toBe('running');
    expect(m.failure).toBeUndefined();
    expect(m.finishedAt).toBeUndefined();
    m = applyProgressEvent(m, { type: 'step-started', jobId: 'j', step: 'sp', at: at(31) });
    expect(m.steps[1]).toEqual({ id: 'sp', title: 'Service principal', state: 'running' });
  });

  it('adds steps it was not told about, upserts checks by name and keeps the last 5 notes', () => {
    let m = applyProgressEvent(base(), { type: 'step-skipped', jobId: 'j', step: 'grant', summary: 'RBAC mode', at: at(1) });
    expect(m.steps.map((s) => [s.id, s.state, s.summary])).toContainEqual(['grant', 'skipped', 'RBAC mode']);
    m = applyProgressEvent(m, { type: 'check', jobId: 'j', name: 'a@x → Granted', ok: false, detail: 'Denied', at: at(2) });
    m = applyProgressEvent(m, { type: 'check', jobId: 'j', name: 'a@x → Granted', ok: true, detail: 'Granted', at: at(3) });
    expect(m.checks).toEqual([{ name: 'a@x → Granted', ok: true, detail: 'Granted' }]);
    for (let i = 0; i < 7; i++) m = applyProgressEvent(m, { type: 'note', jobId: 'j', message: `n${i}`, at: at(4) });
    expect(m.notes).toEqual(['n2', 'n3', 'n4', 'n5', 'n6']);
  });
});

describe('progressCard', () => {
  const { running, failed, succeeded } = sampleProgress();

  it('shows each step’s state, and the retry reason with the attempt', () => {
    const t = renderedTexts(progressCard(running)).join('\n');
    expect(t).toContain('App registration · Done');
    expect(t).toContain('Enterprise app (service principal) · Retrying');
    expect(t).toContain('Attempt 2: waiting for Microsoft to replicate the new service principal');
    expect(t).toContain('Client secret · Pending');
    expect(t).toContain('In progress');
    expect(executeActions(progressCard(running))).toEqual([]);
  });

  it('on failure shows the catalogue code, title, message and what to do, with a Retry (resume) button', async () => {
    const card = progressCard(failed);
    const t = renderedTexts(card).join('\n');
    expect(t).toContain('E_REPLICATION_TIMEOUT: Microsoft did not finish replicating a new object in time');
    expect(t).toContain('The service principal did not appear within 5 minutes.');
    expect(t).toContain('press Retry to continue where it stopped');
    expect(executeActions(card)).toEqual([{ type: 'Action.Execute', title: 'Retry', verb: 'resume', data: { requestId: 'req_01HZX3K9Q4T7' }, associatedInputs: 'none', style: 'positive' }]);
    expect(await checkCard(card)).toEqual([]);
  });

  it('when finished shows the verification checks and no buttons', () => {
    const card = progressCard(succeeded);
    const facts = findNodes(card, (n) => n.type === 'FactSet').flatMap((f) => f.facts as Array<{ title: string; value: string }>);
    expect(facts).toEqual(
      expect.arrayContaining([
        { title: 'info@contoso.com → Granted', value: '✅ Granted' },
        { title: 'control@contoso.com → Denied', value: '✅ Denied' },
        { title: 'Token as the new app', value: '✅ Mail.Send in roles' },
        { title: 'Finished', value: '2 March 2026, 14:12 UTC' },
      ]),
    );
    expect(renderedTexts(card)).toContain('Finished and verified');
    expect(card).not.toHaveProperty('actions');
  });

  it('shows a check that did not run as skipped, never as passed, and does not say "verified"', () => {
    let m = applyProgressEvent(base(), { type: 'check', jobId: 'j', name: 'Token as the new app', ok: false, skipped: true, detail: 'not run: the job was resumed', at: at(1) });
    m = applyProgressEvent(m, { type: 'job-finished', jobId: 'j', status: 'succeeded', at: at(2) });
    expect(m.checks).toEqual([{ name: 'Token as the new app', ok: false, skipped: true, detail: 'not run: the job was resumed' }]);
    const card = progressCard(m);
    const facts = findNodes(card, (n) => n.type === 'FactSet').flatMap((f) => f.facts as Array<{ title: string; value: string }>);
    expect(facts).toContainEqual({ title: 'Token as the new app', value: '⚪ skipped — not run: the job was resumed' });
    const texts = renderedTexts(card);
    expect(texts).not.toContain('Finished and verified');
    expect(texts).toContain('Finished, not everything verified');
    // A journal from before the third state ("ok", "not run: …") is shown as skipped too.
    const legacy = applyProgressEvent(applyProgressEvent(base(), { type: 'check', jobId: 'j', name: 'Token as the new app', ok: true, detail: 'not run: no new secret in this run', at: at(1) }), { type: 'job-finished', jobId: 'j', status: 'succeeded', at: at(2) });
    expect(renderedTexts(progressCard(legacy))).not.toContain('Finished and verified');
  });

  it('says plainly that the restriction was not verified when no mailbox outside the group could be tested', async () => {
    let m = applyProgressEvent(base(), { type: 'check', jobId: 'j', name: 'Test-ApplicationAccessPolicy a@x.se', ok: true, detail: 'Granted (expected Granted)', at: at(1) });
    m = applyProgressEvent(m, { type: 'check', jobId: 'j', name: 'Refused for a mailbox outside the group', ok: false, skipped: true, detail: 'not run: the control mailbox a@x.se is itself a sender', at: at(1) });
    m = applyProgressEvent(m, { type: 'job-finished', jobId: 'j', status: 'succeeded', at: at(2) });
    const card = progressCard(m);
    expect(renderedTexts(card).join('\n')).toContain('The restriction to the sender group was not verified: the control mailbox a@x.se is itself a sender.');
    expect(await checkCard(card)).toEqual([]);
  });

  it('uses a catalogue-independent title for codes it does not know', () => {
    const m = applyProgressEvent(base(), { type: 'step-failed', jobId: 'j', step: 'app', code: 'E_SOMETHING_NEW', message: 'm', action: 'a', at: at(1) });
    expect(renderedTexts(progressCard({ ...m, status: 'failed' }))).toContain('E_SOMETHING_NEW: The step failed');
  });
});
