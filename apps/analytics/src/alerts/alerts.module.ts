import { Module } from '@nestjs/common';
import { AnalyticsModule } from '../analytics.module';
import { HttpWebhookTransport } from './adapters/http-webhook-transport';
import { WEBHOOK_TRANSPORT } from './adapters/webhook-transport.port';
import './controllers/alerts-routes';
import { AlertsController } from './controllers/alerts.controller';
import { AlertMetrics } from './services/alert-metrics';
import { AlertsService } from './services/alerts.service';

/**
 * Bounded context `alerts`: rules over camera health and zone occupancy,
 * delivered to webhooks. Lives in analytics, the one role that sees every
 * camera's status and every zone in both modes.
 */
@Module({
  imports: [AnalyticsModule],
  controllers: [AlertsController],
  providers: [AlertsService, AlertMetrics, { provide: WEBHOOK_TRANSPORT, useClass: HttpWebhookTransport }],
})
export class AlertsModule {}
