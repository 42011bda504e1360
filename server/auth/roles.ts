export const ROLES = ['agent', 'manager', 'admin'] as const;
export type Role = (typeof ROLES)[number];

const RANK: Record<Role, number> = { agent: 1, manager: 2, admin: 3 };

/** Roles nest: a manager can do what an agent can, an admin what a manager can. */
export function hasRole(actual: Role, needed: Role): boolean {
  return RANK[actual] >= RANK[needed];
}

export interface AuthUser {
  id: number;
  email: string;
  name: string;
  role: Role;
}
