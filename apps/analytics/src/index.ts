/** What other apps may use of analytics: its module, and the store options its vote rule sets. */
export { AnalyticsModule } from './analytics.module';
export { AlertsModule } from './alerts/alerts.module';
export { storeOptions } from './services/track-vote';
