export const ROLES = ['agent', 'editor', 'manager', 'admin'] as const;
export type Role = (typeof ROLES)[number];

const RANK: Record<Role, number> = { agent: 1, editor: 2, manager: 3, admin: 4 };

/**
 * Roles nest: an editor is an agent who also writes the FAQ; a manager can do
 * what an editor can, an admin what a manager can.
 */
export function hasRole(actual: Role, needed: Role): boolean {
  return RANK[actual] >= RANK[needed];
}

/**
 * What an API token may do: 'full' acts as its user; 'wallboard' only reads
 * the live board (for a TV), refused everywhere else.
 */
export const TOKEN_SCOPES = ['full', 'wallboard'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

export interface AuthUser {
  id: number;
  email: string;
  name: string;
  role: Role;
  /**
   * May see residents with protected identity (users.sees_protected): set
   * only on the user of a request, read with its session or token; absent
   * elsewhere (then ask the database).
   */
  seesProtected?: boolean;
}
