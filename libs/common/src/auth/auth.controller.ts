import {
  Body,
  Controller,
  Get,
  HttpCode,
  HttpException,
  HttpStatus,
  Inject,
  Post,
  Req,
  Res,
  UnauthorizedException,
} from '@nestjs/common';
import type { Response } from 'express';
import { z } from 'zod';
import { ZodValidationPipe } from '../nest/zod-validation.pipe';
import { AUTHENTICATOR, type AuthedRequest } from './api.guard';
import { AUTH_COOKIE, Authenticator } from './authenticator';
import { LoginThrottledError } from './login-throttle';
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
  async login(
    @Body(new ZodValidationPipe(LoginSchema)) body: LoginDto,
    @Req() req: AuthedRequest,
    @Res({ passthrough: true }) res: Response,
  ): Promise<{ token: string; role: string; expiresAt: number }> {
    let result;
    try {
      result = await this.auth.login(body.username, body.password, req.ip ?? req.socket.remoteAddress ?? 'unknown');
    } catch (err) {
      if (!(err instanceof LoginThrottledError)) throw err;
      res.setHeader('Retry-After', String(err.retryAfterS));
      throw new HttpException({ statusCode: 429, message: err.message }, HttpStatus.TOO_MANY_REQUESTS);
    }
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
  logout(@Req() req: AuthedRequest, @Res({ passthrough: true }) res: Response): void {
    // Revoked, not only forgotten by the browser: a copied token stops working too.
    this.auth.logout({ authorization: req.headers.authorization, cookie: req.headers.cookie });
    res.clearCookie(AUTH_COOKIE, { path: '/' });
  }

  @Get('me')
  me(@Req() req: AuthedRequest): { principal: Principal | undefined; authEnabled: boolean } {
    return { principal: req.principal, authEnabled: this.auth.enabled };
  }
}
