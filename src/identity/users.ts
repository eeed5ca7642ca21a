import type { Principal } from '../core/types.js';

// The role check is the core's (src/core/access.ts); re-exported for the API's modules.
export { hasRole, type Role } from '../core/access.js';

/** Demo users of the embedded dev issuer. */
export const DEMO_USERS: Record<string, Omit<Principal, 'subject'>> = {
  alice: { kind: 'user', groups: ['support'], roles: ['requester'] },
  bob: { kind: 'user', groups: ['finance'], roles: ['approver'] },
  carol: { kind: 'user', groups: ['finance'], roles: ['approver'] },
  dave: { kind: 'user', groups: ['support-leads'], roles: ['approver', 'requester'] },
  erin: { kind: 'user', groups: ['finance-leads'], roles: ['approver'] },
  olivia: { kind: 'user', groups: ['ops'], roles: ['operator'] },
  adam: { kind: 'user', groups: ['platform'], roles: ['admin', 'operator'] },
  /** A service account (a helpdesk integration) that starts runs on behalf of users. */
  'helpdesk-bot': { kind: 'service', groups: ['support'], roles: ['requester'] },
};
