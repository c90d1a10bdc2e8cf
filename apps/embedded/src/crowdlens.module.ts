import { Module, type DynamicModule, type Type } from '@nestjs/common';
import type { AppConfig, Role } from '@crowdlens/config';
import { CoreModule } from '@crowdlens/common';
import { StorageModule } from '@crowdlens/storage';
import type { Logger } from 'pino';
import { AlertsModule, AnalyticsModule, storeOptions } from '@crowdlens/analytics';
import { InferenceModule } from '@crowdlens/inference';
import { GeometryProxyModule, IngestModule, LiveViewModule } from '@crowdlens/ingest';

/** Which app modules a process runs. Embedded = all three in one process, one code path. */
const ROLE_MODULES: Readonly<Record<Role, readonly Type[]>> = {
  embedded: [LiveViewModule, IngestModule, InferenceModule, AnalyticsModule, AlertsModule],
  ingest: [LiveViewModule, IngestModule],
  inference: [InferenceModule],
  analytics: [LiveViewModule, GeometryProxyModule, AnalyticsModule, AlertsModule],
};

@Module({})
export class CrowdLensModule {
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    const needsStore = config.role === 'embedded' || config.role === 'analytics';
    return {
      module: CrowdLensModule,
      imports: [
        CoreModule.forRoot(config, logger),
        ...(needsStore ? [StorageModule.forRoot(config.store, storeOptions(config))] : []),
        ...ROLE_MODULES[config.role],
      ],
    };
  }
}
