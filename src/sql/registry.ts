/**
 * The SQL engines, one line each. An engine is a folder here with a dialect (dialect.ts), a driver
 * that only executes, its config (config.ts) and an `Engine` (engine.ts); adding one (MySQL, say)
 * means adding that folder and its line below, and naming it where a config section picks its engine.
 */
import type { Engine } from './engine.js';
import { duckdbEngine } from './duckdb/engine.js';
import { postgresEngine } from './postgres/engine.js';

export const ENGINES = {
  postgres: postgresEngine,
  duckdb: duckdbEngine,
} satisfies Record<string, Engine<never>>;

export type EngineName = keyof typeof ENGINES;
