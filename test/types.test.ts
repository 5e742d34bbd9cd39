/**
 * windmill-client script code compiles under `tsc --strict` against the built .d.ts: millrace is
 * installed in a temp project as `windmill-client` (what `npm i windmill-client@npm:millrace` gives).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect, it } from 'vitest';

const root = resolve(__dirname, '..');

it('compiles typical windmill-client script code against the built types', () => {
  const project = mkdtempSync(join(tmpdir(), 'millrace-types-'));
  const pkg = join(project, 'node_modules', 'millrace');
  mkdirSync(pkg, { recursive: true });
  // Built into the temp package (not dist/), so it never races another test reading dist/.
  execFileSync('npx', ['tsup', '--silent', '--out-dir', join(pkg, 'dist')], { cwd: root, stdio: 'pipe' });
  copyFileSync(join(root, 'package.json'), join(pkg, 'package.json'));
  symlinkSync(pkg, join(project, 'node_modules', 'windmill-client'), 'dir');
  // A Node project has Node's types (millrace's file functions take Node streams).
  mkdirSync(join(project, 'node_modules', '@types'));
  symlinkSync(join(root, 'node_modules/@types/node'), join(project, 'node_modules/@types/node'), 'dir');
  copyFileSync(join(root, 'test/fixtures/windmill-script/main.ts'), join(project, 'main.ts'));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'script', type: 'module', private: true }));
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { strict: true, noEmit: true, target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', types: ['node'], skipLibCheck: false }, files: ['main.ts'] }),
  );
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', project], { encoding: 'utf8' });
  expect(tsc.stdout + tsc.stderr).toBe('');
  expect(tsc.status).toBe(0);
}, 240_000);
