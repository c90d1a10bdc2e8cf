import { Global, Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { StoreConfig } from '@crowdlens/config';
import { AGGREGATE_STORE, type AggregateStore } from './aggregate-store.port';
import { LINE_ZONE_STORE } from './line-zone-store.port';
import { SqlLineZoneStore } from './sql/sql-line-zone-store';
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
  return migrated(new SqlAggregateStore(await createDriver(config), options));
}

/** One connection (pool) per process, shared by the stores on it (and the alert outbox). */
export const SQL_DRIVER = Symbol('SqlDriver');

function createDriver(config: StoreConfig): Promise<SqlDriver> {
  return (DRIVERS[config.type] as DriverFactory<StoreConfig>)(config);
}

async function migrated<S extends { migrate(): Promise<void> }>(store: S): Promise<S> {
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
      providers: [
        { provide: SQL_DRIVER, useFactory: () => createDriver(config) },
        {
          provide: AGGREGATE_STORE,
          inject: [SQL_DRIVER],
          useFactory: (driver: SqlDriver) => migrated(new SqlAggregateStore(driver, options)),
        },
        {
          provide: LINE_ZONE_STORE,
          // After the aggregates: line and zone counts read the `tracks` table.
          inject: [SQL_DRIVER, AGGREGATE_STORE],
          useFactory: (driver: SqlDriver) => migrated(new SqlLineZoneStore(driver)),
        },
        StoreCloser,
      ],
      exports: [AGGREGATE_STORE, LINE_ZONE_STORE, SQL_DRIVER],
    };
  }
}
