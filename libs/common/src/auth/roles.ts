import { SetMetadata } from '@nestjs/common';
import type { UserRole } from '@crowdlens/config';

export const ROLE_RANK: Readonly<Record<UserRole, number>> = { viewer: 1, operator: 2, admin: 3 };

export const REQUIRED_ROLE = 'crowdlens:required-role';
export const PUBLIC_ROUTE = 'crowdlens:public';

/** Least role a route needs; routes without it need `viewer`. */
export const RequireRole = (role: UserRole) => SetMetadata(REQUIRED_ROLE, role);

export const UNLIMITED_ROUTE = 'crowdlens:unlimited';

/** No authentication (health probes, login, the dashboard's static shell). Still rate limited. */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

/** Exempt from rate limiting: probes and static files that hold no data. */
export const Unlimited = () => SetMetadata(UNLIMITED_ROUTE, true);

export interface Principal {
  readonly name: string;
  readonly role: UserRole;
  readonly via: 'token' | 'api-key' | 'auth-disabled';
}

export function hasRole(principal: Principal, role: UserRole): boolean {
  return ROLE_RANK[principal.role] >= ROLE_RANK[role];
}
