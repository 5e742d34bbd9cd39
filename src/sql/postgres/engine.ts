/** The PostgreSQL engine: a pool per datatable, on a server or on the embedded PGlite. */
import type { Engine } from '../engine.js';
import { isEmbedded, libpqConninfo, type DatatableConfig } from './config.js';
import { postgresDialect } from './dialect.js';
import { PostgresPool } from './driver.js';
import { postgresTarget } from './target.js';
import { startEmbeddedPostgres } from './embedded.js';

export const postgresEngine: Engine<DatatableConfig> = {
  dialect: postgresDialect,
  async open(config, label) {
    if (isEmbedded(config)) {
      const embedded = await startEmbeddedPostgres(label, config.dataDir);
      let p: PostgresPool;
      try {
        p = await PostgresPool.open(embedded.target);
      } catch (e) {
        await embedded.close().catch(() => undefined);
        throw e;
      }
      return { driver: p, libpq: embedded.libpq, close: async () => { await p.close(); await embedded.close(); } };
    }
    const p = await PostgresPool.open(postgresTarget(label, config));
    const libpq = { conninfo: libpqConninfo(config), readOnly: false, secrets: typeof config === 'string' ? [config] : [config.password] };
    return { driver: p, libpq, close: () => p.close() };
  },
};
