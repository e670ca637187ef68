/**
 * The live progress card, plus a pure reducer from the engine's ProgressEvents to its view model, so the bot can
 * keep one model per job and re-render the card on every event.
 */
import { ERROR_CATALOGUE, describeAction, type ErrorCode } from '../core/errors';
import type { ProgressEvent } from '../core/ports';
import { CARD_MARK, checkDetail, checkState, unverifiedNotice } from '../provisioning';
import { adaptiveCard, banner, container, execute, factSet, formatUtc, heading, plainText, sectionTitle, textBlock } from './elements';
import { escapeMarkdown } from './markdown';
import { stepTitle } from './step-titles';
import type { AdaptiveCardJson, CardElement, ProgressCardModel, ProgressStepView, StepState } from './types';

const STATE_LABEL: Record<StepState, { icon: string; word: string; color?: 'Good' | 'Warning' | 'Attention' | 'Accent' }> = {
  pending: { icon: '⏳', word: 'Pending' },
  running: { icon: '▶️', word: 'Running', color: 'Accent' },
  done: { icon: '✅', word: 'Done', color: 'Good' },
  skipped: { icon: '⏭️', word: 'Skipped' },
  retrying: { icon: '🔁', word: 'Retrying', color: 'Warning' },
  failed: { icon: '❌', word: 'Failed', color: 'Attention' },
  waiting: { icon: '⏸️', word: 'Waiting', color: 'Accent' },
};

/** The engine's code for "stopped on purpose until later" (a wait for Microsoft, a secret overlap): not a failure. */
const UNFINISHED = 'E_JOB_UNFINISHED' satisfies ErrorCode;
const APPROVER_NEEDED = 'E_APPROVER_NEEDED' satisfies ErrorCode;

/** Keep the card well under Teams' message size even for chatty jobs. */
const MAX_NOTES = 5;

export function progressCard(model: ProgressCardModel): AdaptiveCardJson {
  const body: CardElement[] = [...heading(escapeMarkdown(model.title), `Request ${model.requestId}`)];

  if (model.status === 'running') {
    body.push(banner('In progress', 'accent', 'This card updates as each step finishes. You can close Teams; the work continues.'));
  } else if (model.status === 'succeeded') {
    // Finished, but "verified" would claim a check that did not run.
    const notice = unverifiedNotice(model.checks);
    if (notice) {
      body.push(banner('Finished, not everything verified', 'warning', `${notice}${model.finishedAt ? ` ${formatUtc(model.finishedAt)}` : ''}`));
    } else {
      body.push(banner('Finished and verified', 'good', model.finishedAt ? formatUtc(model.finishedAt) : undefined));
    }
  } else if (model.status === 'waiting') {
    const until = model.waiting?.forApprover
      ? ' An approver presses Continue on the approval card: their own sign-in makes the next change, and nothing is done twice.'
      : model.waiting?.until
        ? ` It continues by itself after ${formatUtc(model.waiting.until)}.`
        : ' It continues by itself.';
    body.push(banner(model.waiting?.forApprover ? 'Waiting for an approver' : 'Waiting', 'accent', `${escapeMarkdown(model.waiting?.reason ?? 'Waiting for Microsoft.')}${until}`));
  } else {
    body.push(banner('Stopped: a step failed', 'attention', 'Everything done so far is kept. Fix the cause below, then press Retry to continue where it stopped.'));
  }

  body.push(sectionTitle('Steps'));
  for (const step of model.steps) body.push(stepRow(step));

  if (model.checks.length > 0) {
    body.push(sectionTitle('Verification'));
    body.push(factSet(model.checks.map((c) => [c.name, `${CARD_MARK[checkState(c)]} ${checkDetail(c)}`])));
  }

  if (model.failure) body.push(failureBox(model.failure));

  if (model.notes.length > 0) {
    body.push(sectionTitle('Notes'));
    for (const note of model.notes.slice(-MAX_NOTES)) body.push(plainText(note, { size: 'Small' }));
  }

  body.push(
    factSet([
      ['Started', model.startedAt ? formatUtc(model.startedAt) : undefined],
      [model.finishedAt ? 'Finished' : 'Updated', formatUtc(model.finishedAt ?? model.updatedAt)],
    ]),
  );

  const actions = model.status === 'failed' ? [execute('resume', 'Retry', { requestId: model.requestId }, { style: 'positive' })] : [];
  return adaptiveCard(body, actions);
}

function stepRow(step: ProgressStepView): CardElement {
  const label = STATE_LABEL[step.state];
  const detailLines: string[] = [];
  if (step.state === 'retrying') {
    detailLines.push(`Attempt ${step.attempt ?? '?'}${step.reason ? `: ${step.reason}` : ''}`);
    if (step.nextAttemptAt) detailLines.push(`Next try ${formatUtc(step.nextAttemptAt)}`);
  } else if (step.state === 'failed' && step.error) {
    detailLines.push(`${step.error.code}: ${step.error.message}`);
  } else if (step.state === 'waiting' && step.reason) {
    detailLines.push(step.reason);
  } else if (step.summary) {
    detailLines.push(step.summary);
  }
  const textItems: CardElement[] = [textBlock(`${escapeMarkdown(step.title)} · ${label.word}`, { weight: step.state === 'running' || step.state === 'retrying' ? 'Bolder' : undefined, color: label.color })];
  for (const line of detailLines) textItems.push(plainText(line, { size: 'Small', spacing: 'None', color: step.state === 'failed' ? 'Attention' : undefined }));
  return {
    type: 'ColumnSet',
    spacing: 'Small',
    columns: [
      { type: 'Column', width: 'auto', items: [textBlock(label.icon)] },
      { type: 'Column', width: 'stretch', items: textItems },
    ],
  };
}

function failureBox(f: { code: string; message: string; action: string }): CardElement {
  const title = f.code in ERROR_CATALOGUE ? ERROR_CATALOGUE[f.code as ErrorCode].title : 'The step failed';
  return container(
    [
      textBlock(`${f.code}: ${title}`, { weight: 'Bolder', color: 'Attention' }),
      plainText(f.message, { size: 'Small' }),
      textBlock('What to do', { weight: 'Bolder', size: 'Small', spacing: 'Small' }),
      plainText(f.action, { spacing: 'None' }),
    ],
    { style: 'attention', spacing: 'Medium' },
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Reducer
// ---------------------------------------------------------------------------------------------------------------

/** A fresh model with the planned steps pending (e.g. PROVISION_STEPS with STEP_TITLES). */
export function newProgress(init: { requestId: string; title: string; steps: Array<{ id: string; title: string }>; at: string }): ProgressCardModel {
  return {
    requestId: init.requestId,
    title: init.title,
    status: 'running',
    steps: init.steps.map((s) => ({ id: s.id, title: s.title, state: 'pending' })),
    checks: [],
    notes: [],
    updatedAt: init.at,
  };
}

/** Applies one engine event; returns a new model (the input is not modified). */
export function applyProgressEvent(model: ProgressCardModel, event: ProgressEvent): ProgressCardModel {
  const next: ProgressCardModel = { ...model, steps: model.steps.map((s) => ({ ...s })), checks: [...model.checks], notes: [...model.notes], updatedAt: event.at };
  const step = (id: string, title: string): ProgressStepView => {
    let s = next.steps.find((x) => x.id === id);
    if (!s) {
      s = { id, title, state: 'pending' };
      next.steps.push(s);
    }
    return s;
  };
  const reset = (s: ProgressStepView, state: StepState) => {
    s.state = state;
    delete s.summary;
    delete s.attempt;
    delete s.reason;
    delete s.nextAttemptAt;
    delete s.error;
  };

  switch (event.type) {
    case 'job-started':
      // A resume starts the job again: the old failure no longer describes where it stands.
      next.status = 'running';
      next.startedAt ??= event.at;
      delete next.finishedAt;
      delete next.failure;
      delete next.waiting;
      break;
    case 'step-started':
      reset(step(event.step, stepTitle(event.step)), 'running');
      break;
    case 'step-succeeded': {
      const s = step(event.step, stepTitle(event.step));
      reset(s, 'done');
      if (event.summary) s.summary = event.summary;
      break;
    }
    case 'step-skipped': {
      const s = step(event.step, stepTitle(event.step));
      reset(s, 'skipped');
      if (event.summary) s.summary = event.summary;
      break;
    }
    case 'step-retrying': {
      const s = step(event.step, stepTitle(event.step));
      reset(s, 'retrying');
      s.attempt = event.attempt;
      s.reason = event.reason;
      s.nextAttemptAt = new Date(new Date(event.at).getTime() + event.waitMs).toISOString();
      break;
    }
    case 'step-failed': {
      const s = step(event.step, stepTitle(event.step));
      if (event.code === UNFINISHED || event.code === APPROVER_NEEDED) {
        // The message is "<catalogue title>: <detail>"; the detail alone says what it waits for.
        const prefix = `${ERROR_CATALOGUE[event.code].title}: `;
        const reason = event.message.startsWith(prefix) ? event.message.slice(prefix.length) : event.message;
        reset(s, 'waiting');
        s.reason = reason;
        next.waiting = { reason, ...(event.code === APPROVER_NEEDED ? { forApprover: true } : {}) };
        break;
      }
      reset(s, 'failed');
      // The engine's action fits any place; this card has a Retry button, so say that where the catalogue retries.
      const action = event.code in ERROR_CATALOGUE ? describeAction(event.code as ErrorCode, event.detail, 'progress') : event.action;
      s.error = { code: event.code, message: event.message, action };
      next.failure = s.error;
      break;
    }
    case 'check': {
      const i = next.checks.findIndex((c) => c.name === event.name);
      const check = { name: event.name, ok: event.ok, detail: event.detail, ...(event.skipped ? { skipped: true } : {}) };
      if (i >= 0) next.checks[i] = check;
      else next.checks.push(check);
      break;
    }
    case 'note':
      next.notes.push(event.message);
      if (next.notes.length > MAX_NOTES) next.notes.splice(0, next.notes.length - MAX_NOTES);
      break;
    case 'job-finished':
      if (event.status === 'waiting' && !next.failure) {
        next.status = 'waiting';
        next.waiting = { reason: next.waiting?.reason ?? 'Waiting for Microsoft.', ...next.waiting, ...(event.resumeAfter ? { until: event.resumeAfter } : {}) };
        break;
      }
      // A job from before the waiting status: its waiting step failed with E_JOB_UNFINISHED.
      if (event.status === 'failed' && next.waiting && !next.failure) {
        next.status = 'waiting';
        break;
      }
      next.status = event.status;
      next.finishedAt = event.at;
      if (event.status === 'succeeded') delete next.failure;
      break;
  }
  return next;
}
