import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Readiness } from './readiness';
import { Public, Unlimited } from '../auth/roles';

@Controller()
export class HealthController {
  @Get('health')
  @Public()
  @Unlimited()
  @HttpCode(200)
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @Public()
  @Unlimited()
  ready(@Res() res: Response): void {
    const report = Readiness.report();
    res.status(report.ready ? 200 : 503).json(report);
  }
}
