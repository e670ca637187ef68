/**
 * Delegated mode's approver access, held for the one run it was given for (docs/delegated-mode.md). The
 * host puts an approver's access here when their click carried a valid sign-in; the runner hands it to the
 * engine for that request's next run and drops it when the run ends. Memory only, never the store: after a
 * restart nothing is here and the job waits for an approver's Continue.
 */
import type { WriteAccess } from '../provisioning';

export class ApproverSessions {
  private readonly held = new Map<string, WriteAccess>();

  /** The access for the request's next run (replacing one held before: the latest sign-in wins). */
  hold(requestId: string, access: WriteAccess): void {
    this.held.set(requestId, access);
  }

  /** The access held for the request, if any; it stays held until drop(). */
  peek(requestId: string): WriteAccess | null {
    return this.held.get(requestId) ?? null;
  }

  drop(requestId: string): void {
    this.held.delete(requestId);
  }
}
