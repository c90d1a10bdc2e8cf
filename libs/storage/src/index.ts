export * from './aggregate-store.port';
export * from './sql/sql-driver';
export * from './sql/migrations';
export * from './sql/sql-aggregate-store';
export * from './sqlite/sqlite-driver';
export * from './storage.module';
export * from './postgres/postgres-driver';
