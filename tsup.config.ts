import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', s3: 'src/entries/s3.ts', sql: 'src/entries/sql.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  target: 'node20',
  splitting: true,
  sourcemap: true,
  // Keep `import()` in the CommonJS build so ESM-only backends still load lazily.
  esbuildOptions(options) {
    options.supported = { ...options.supported, 'dynamic-import': true };
  },
});
