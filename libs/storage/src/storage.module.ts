import { Global, Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { StoreConfig } from '@crowdlens/config';
import { AGGREGATE_STORE, type AggregateStore } from './aggregate-store.port';
import { SqlAggregateStore, type SqlAggregateStoreOptions } from './sql/sql-aggregate-store';
import type { SqlDriver } from './sql/sql-driver';
import { SqliteDriver } from './sqlite/sqlite-driver';

type DriverFactory<C extends StoreConfig> = (config: C) => Promise<SqlDriver>;

/** Store backends keyed by config `type`; both run the same SQL through one query layer. */
const DRIVERS: { [K in StoreConfig['type']]: DriverFactory<Extract<StoreConfig, { type: K }>> } = {
  sqlite: async (config) => new SqliteDriver(config.path),
  postgres: async (config) => {
    // Loaded on demand: the embedded mode never needs pg.
    const { PostgresDriver } = await import('./postgres/postgres-driver');
    return new PostgresDriver({ url: config.url });
  },
};

export async function createAggregateStore(
  config: StoreConfig,
  options: SqlAggregateStoreOptions,
): Promise<AggregateStore> {
  const driver = await (DRIVERS[config.type] as DriverFactory<StoreConfig>)(config);
  const store = new SqlAggregateStore(driver, options);
  await store.migrate();
  return store;
}

class StoreCloser implements OnApplicationShutdown {
  constructor(@Inject(AGGREGATE_STORE) private readonly store: AggregateStore) {}
  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}

@Global()
@Module({})
export class StorageModule {
  static forRoot(config: StoreConfig, options: SqlAggregateStoreOptions): DynamicModule {
    return {
      module: StorageModule,
      providers: [{ provide: AGGREGATE_STORE, useFactory: () => createAggregateStore(config, options) }, StoreCloser],
      exports: [AGGREGATE_STORE],
    };
  }
}
