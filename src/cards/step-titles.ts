/**
 * What each engine step is called on a card or a CLI line. The engine's progress events name steps by id only, so
 * the words live with the people who read them.
 */
export const STEP_TITLES: Readonly<Record<string, string>> = {
  validate: 'Check sender mailboxes and the group’s owner',
  app: 'App registration',
  servicePrincipal: 'Enterprise app (service principal)',
  grant: 'Microsoft Graph Mail.Send (application) permission',
  group: 'Mail-enabled security group and members',
  policy: 'Application Access Policy (RestrictAccess)',
  secret: 'Client secret',
  verify: 'Verification',
  locate: 'Find the registration and its group',
  members: 'Change the group members',
  organization: 'Exchange organization customization',
  exchangeServicePrincipal: 'Exchange service principal pointer',
  roleAssignment: 'RBAC role assignment (Application Mail.Send, group scope)',
  removeGraphGrant: 'Remove the tenant-wide Graph Mail.Send grant',
  verifyRbac: 'Verify the RBAC scope',
  settle: 'Wait for Exchange’s permission cache',
  removePolicy: 'Remove the Application Access Policy',
  retire: 'Retire the old secrets',
  testSend: 'Test email (temporary secret, token, scope, send)',
  baseline: 'Record the baseline',
};

/** The title of a step id (the id itself for a step this table does not know). */
export function stepTitle(step: string): string {
  return Object.hasOwn(STEP_TITLES, step) ? STEP_TITLES[step] : step;
}
