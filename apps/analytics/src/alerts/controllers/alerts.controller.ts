import { Controller, Get, Inject } from '@nestjs/common';
import { CLOCK, RequireRole } from '@crowdlens/common';
import type { Clock } from '@crowdlens/runtime';
import type { FiringAlert } from '../services/alert-evaluator';
import { AlertsService } from '../services/alerts.service';

@Controller('api/alerts')
export class AlertsController {
  constructor(
    private readonly alerts: AlertsService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Alerts firing now. Camera health is for operators, as on /api/live. */
  @Get()
  @RequireRole('operator')
  list(): { at: number; alerts: FiringAlert[] } {
    return { at: this.clock.now(), alerts: this.alerts.firing() };
  }
}
