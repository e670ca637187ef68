/**
 * The lifecycle's periodic work, run by the background worker on every sweep (and so by `bot.tick()`):
 *  - requests whose job waits on purpose (a migration waiting for Exchange's permission cache) are run again once
 *    their time has come, by the bot's clock;
 *  - retire jobs a crash left running are resumed, and rotations whose overlap has ended get their old secrets
 *    retired (rotation.ts);
 *  - the daily expiry check fires the 30/7/1-day reminders (reminders.ts).
 * Each part is independent: a failure is logged and the others still run.
 */
import { waitsForApprover } from '../../provisioning';
import { describeError } from '../describe-error';
import { sweepExpiryReminders } from './reminders';
import { sweepRetirements } from '../handlers/rotation';
import type { ProvisioningRunner } from './runner';
import type { BotServices } from '../types';

/** Starts the requests whose waiting job may continue now. Returns their ids. */
export function resumeDueWaits(services: BotServices, runner: ProvisioningRunner): string[] {
  const { store, engine, clock, log } = services;
  const now = clock.now().getTime();
  const started: string[] = [];
  for (const { job, resumeAfter } of engine.waitingJobs()) {
    if (resumeAfter && new Date(resumeAfter).getTime() > now) continue;
    // Only an approver's Continue (with their sign-in) takes these further; running them again would stop again.
    if (waitsForApprover(job)) continue;
    const request = store.requests.getByJobId(job.id);
    if (!request || request.status !== 'provisioning' || runner.isRunning(request.id)) continue;
    log.info(`job ${job.id} of request ${request.id} may continue (it waited until ${resumeAfter ?? 'now'})`);
    void runner.start(request.id);
    started.push(request.id);
  }
  return started;
}

export async function lifecycleSweep(services: BotServices, runner: ProvisioningRunner): Promise<void> {
  const { log } = services;
  try {
    resumeDueWaits(services, runner);
  } catch (e) {
    log.error(`resuming waiting jobs failed: ${describeError(e)}`);
  }
  try {
    sweepRetirements(services, runner);
  } catch (e) {
    log.error(`retiring old secrets failed: ${describeError(e)}`);
  }
  try {
    await sweepExpiryReminders(services);
  } catch (e) {
    log.error(`the expiry check failed: ${describeError(e)}`);
  }
}
