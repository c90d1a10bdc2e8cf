import { Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@crowdlens/config';
import { LOGGER } from '@crowdlens/common';
import type { Logger } from 'pino';
import { SQL_DRIVER, type SqlDriver } from '@crowdlens/storage';
import { ALERT_LEADERSHIP, SoleLeadership, type AlertLeadership } from './adapters/alert-leadership.port';
import { ALERT_OUTBOX } from './adapters/alert-outbox.port';
import { SqlAlertOutbox } from './adapters/sql-alert-outbox';
import { PostgresAlertLeadership } from './adapters/postgres-alert-leadership';
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
  providers: [
    AlertsService,
    AlertMetrics,
    { provide: WEBHOOK_TRANSPORT, useClass: HttpWebhookTransport },
    { provide: ALERT_LEADERSHIP, inject: [APP_CONFIG, LOGGER], useFactory: alertLeadership },
    {
      provide: ALERT_OUTBOX,
      inject: [SQL_DRIVER],
      useFactory: async (driver: SqlDriver) => {
        const outbox = new SqlAlertOutbox(driver);
        await outbox.migrate();
        return outbox;
      },
    },
  ],
})
export class AlertsModule {}

/** PostgreSQL is what several analytics replicas share; a SQLite store has exactly one analytics process. */
function alertLeadership(config: AppConfig, logger: Logger): AlertLeadership {
  if (config.store.type !== 'postgres') return new SoleLeadership();
  const log = logger.child({ component: 'alerts' });
  return new PostgresAlertLeadership({
    url: config.store.url,
    logger: log,
    onChange: (leader) =>
      log.info(
        leader
          ? 'this analytics replica sends the alerts (it holds the alert leadership)'
          : 'standby: another analytics replica sends the alerts',
      ),
  });
}
