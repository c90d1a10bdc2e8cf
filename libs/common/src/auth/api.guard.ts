import {
  ForbiddenException,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { UserRole } from '@crowdlens/config';
import type { Request, Response } from 'express';
import { Authenticator } from './authenticator';
import { RateLimiter } from './rate-limiter';
import { unsafeRequestProblem } from './request-checks';
import { hasRole, PUBLIC_ROUTE, REQUIRED_ROLE, UNLIMITED_ROUTE, type Principal } from './roles';

export const AUTHENTICATOR = Symbol('Authenticator');
export const RATE_LIMITER = Symbol('RateLimiter');

export type AuthedRequest = Request & { principal?: Principal };

/** Every route: rate limit, refuse non-JSON and cross-site changes, then authenticate, then check the route's role. */
@Injectable()
export class ApiGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(AUTHENTICATOR) private readonly auth: Authenticator,
    @Inject(RATE_LIMITER) private readonly limiter: RateLimiter,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const req = http.getRequest<AuthedRequest>();
    const targets = [context.getHandler(), context.getClass()];
    if (!this.reflector.getAllAndOverride<boolean>(UNLIMITED_ROUTE, targets)) {
      const wait = this.limiter.take(req.ip ?? req.socket.remoteAddress ?? 'unknown');
      if (wait > 0) {
        http.getResponse<Response>().setHeader('Retry-After', String(wait));
        throw new HttpException(
          { statusCode: 429, message: `rate limit exceeded; retry in ${wait}s` },
          HttpStatus.TOO_MANY_REQUESTS,
        );
      }
    }
    // Before the public check: logging in or out from another site is refused too.
    const problem = unsafeRequestProblem(req);
    if (problem) throw new HttpException({ statusCode: problem.status, message: problem.message }, problem.status);
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;

    const principal = this.auth.authenticate({
      authorization: req.headers.authorization,
      apiKey: header(req, 'x-api-key'),
      cookie: req.headers.cookie,
    });
    if (!principal) throw new UnauthorizedException('authentication required: log in, or send an API key');
    req.principal = principal;
    const role = this.reflector.getAllAndOverride<UserRole>(REQUIRED_ROLE, targets) ?? 'viewer';
    if (!hasRole(principal, role)) {
      if (principal.via === 'auth-disabled')
        throw new ForbiddenException(
          `auth is off, so the ${role} API is too: add auth.users or auth.apiKeys, ` +
            'or set auth.adminWithoutAuth: true on a machine nobody else can reach',
        );
      throw new ForbiddenException(`role ${principal.role} may not do this; it needs ${role}`);
    }
    return true;
  }
}

function header(req: Request, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
