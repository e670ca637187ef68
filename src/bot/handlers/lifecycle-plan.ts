/**
 * What the approvers see for a request: the approval card's variant and plan, from the request's action
 * (src/actions) and its stored payload only (never from card data). Pure.
 */
import type { ApprovalPlan, ApprovalVariant } from '../../cards';
import { registry, type Registry } from '../../actions/registry';
import type { RequestRecord } from '../../store';
import type { BotRequestKind } from '../types';

export { migrationView } from '../../actions/common';

export function kindOf(request: RequestRecord): BotRequestKind {
  return request.kind as BotRequestKind;
}

/** The approval card's variant and plan of a request whose action is approved (null: a channel change, or no such action). */
export function actionApproval(request: RequestRecord, reg: Registry = registry): { variant: ApprovalVariant; plan: ApprovalPlan } | null {
  const approval = reg.actionFor(request.kind)?.approval;
  return approval ? { variant: approval.variant, plan: approval.plan(request.payload) } : null;
}
