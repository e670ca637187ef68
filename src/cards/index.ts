/** Every Adaptive Card the bot sends: pure builders from view models (types.ts) to schema-1.5 JSON. */
export * from './types';
export { VERBS, VERB_DATA_KEYS, isVerb, readActionData, type Verb, type ActionData, type ActionDataKey } from './verbs';
export { cardAttachment, formatUtc, refreshUserIds, CARD_CONTENT_TYPE, CARD_SCHEMA, CARD_VERSION, MAX_REFRESH_USER_IDS } from './elements';
export { helpCard, HELP_BUILTINS } from './help';
export { requestFormCard, readRequestForm, formErrorFor, REQUEST_FORM_INPUTS, SCOPING_CHOICES, MIN_SECRET_YEARS, MAX_SECRET_YEARS } from './request-form';
export { approvalCard, APPROVAL_INPUTS } from './approval';
export { channelChangeApprovalCard, channelLabel } from './channel-change';
export { progressCard, newProgress, applyProgressEvent } from './progress';
export { secretReadyCard, revealedSecretCard, secretHiddenCard, secretExpiredCard, rbacTestHints } from './secret';
export { auditEntryCard, HASH_PREFIX_LENGTH } from './audit';
export { chooseRegistrationCard, CHOOSE_REGISTRATION_INPUTS } from './choose-registration';
export { errorCard, noticeCard } from './notice';
export { statusCard, expiryLevel, needsAttentionNow, EXPIRY_WARNING_DAYS, MAX_STATUS_REGISTRATIONS, MAX_SENDERS_SHOWN, type ExpiryLevel } from './status';
export { describeScopingState, migrationPlanElements, submittedRequestCard, rotationCard, expiryReminderCard, lifecycleResultCard } from './lifecycle';
