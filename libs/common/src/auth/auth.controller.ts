import { Body, Controller, Get, HttpCode, Inject, Post, Req, Res, UnauthorizedException } from '@nestjs/common';
import type { Response } from 'express';
import { z } from 'zod';
import { ZodValidationPipe } from '../nest/zod-validation.pipe';
import { AUTHENTICATOR, type AuthedRequest } from './api.guard';
import { AUTH_COOKIE, Authenticator } from './authenticator';
import { Public, type Principal } from './roles';

export const LoginSchema = z
  .object({ username: z.string().min(1).max(64), password: z.string().min(1).max(256) })
  .strict();
type LoginDto = z.infer<typeof LoginSchema>;

@Controller('api/auth')
export class AuthController {
  constructor(@Inject(AUTHENTICATOR) private readonly auth: Authenticator) {}

  /** Public, but rate limited like every API route: login is the brute-force target. */
  @Post('login')
  @Public()
  @HttpCode(200)
  login(
    @Body(new ZodValidationPipe(LoginSchema)) body: LoginDto,
    @Req() req: AuthedRequest,
    @Res({ passthrough: true }) res: Response,
  ): { token: string; role: string; expiresAt: number } {
    const result = this.auth.login(body.username, body.password);
    if (!result) throw new UnauthorizedException('unknown user or wrong password');
    res.cookie(AUTH_COOKIE, result.token, {
      httpOnly: true,
      sameSite: 'strict',
      // Secure whenever the request came over TLS (behind a proxy: when express is told to trust it).
      secure: req.secure,
      expires: new Date(result.expiresAt),
      path: '/',
    });
    return { token: result.token, role: result.principal.role, expiresAt: result.expiresAt };
  }

  @Post('logout')
  @Public()
  @HttpCode(204)
  logout(@Res({ passthrough: true }) res: Response): void {
    res.clearCookie(AUTH_COOKIE, { path: '/' });
  }

  @Get('me')
  me(@Req() req: AuthedRequest): { principal: Principal | undefined; authEnabled: boolean } {
    return { principal: req.principal, authEnabled: this.auth.enabled };
  }
}
