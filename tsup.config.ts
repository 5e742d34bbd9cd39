import { defineConfig } from 'tsup';

export default defineConfig({
  // cli: the `millrace` bin (dist/cli.js); its own imports (commander, cli-table3, ...) stay out of the library's chunks.
  entry: { index: 'src/index.ts', s3: 'src/entries/s3.ts', sql: 'src/entries/sql.ts', cli: 'src/cli/main.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  target: 'node20',
  splitting: true,
  sourcemap: true,
  // import.meta.url in the CommonJS build (pglite-seed.ts finds the seed beside the module).
  shims: true,
  // Keep `import()` in the CommonJS build so ESM-only backends still load lazily.
  esbuildOptions(options) {
    options.supported = { ...options.supported, 'dynamic-import': true };
  },
});
