/** The README is the documentation: its first screen and every config it shows must be real. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ParseError, parse as parseJsonc } from 'jsonc-parser';
import { describe, expect, it } from 'vitest';
import { resolveConfig, type MillraceConfig } from '../src/config.js';

const root = join(__dirname, '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
const TOP_LEVEL = ['storage', 'secondaryStorage', 'resources', 'datatables', 'ducklakes', 'duckdb'];

/** Every ```json block (and the inline MILLRACE_CONFIG) that is a millrace config. */
function configsInReadme(): { where: string; config: MillraceConfig }[] {
  const out: { where: string; config: MillraceConfig }[] = [];
  for (const m of readme.matchAll(/```json\n([\s\S]*?)```/g)) {
    const config = JSON.parse(m[1]!) as Record<string, unknown>;
    if (Object.keys(config).some((k) => TOP_LEVEL.includes(k))) out.push({ where: m[1]!.slice(0, 60), config });
  }
  // JSONC examples (comments, trailing commas) are configs too, as millrace reads them; the grammar block is not JSON.
  for (const m of readme.matchAll(/```jsonc\n([\s\S]*?)```/g)) {
    const errors: ParseError[] = [];
    const config = parseJsonc(m[1]!, errors, { allowTrailingComma: true }) as Record<string, unknown>;
    if (errors.length === 0 && Object.keys(config).some((k) => TOP_LEVEL.includes(k))) out.push({ where: `jsonc ${m[1]!.slice(0, 60)}`, config });
  }
  for (const m of readme.matchAll(/MILLRACE_CONFIG='([\s\S]*?)'/g)) out.push({ where: 'MILLRACE_CONFIG', config: JSON.parse(m[1]!) });
  return out;
}

describe('README', () => {
  it('opens with the install+demo and the test commands, both real scripts', () => {
    const firstScreen = readme.split('\n').slice(0, 20).join('\n');
    expect(firstScreen).toContain('npm ci && npm run demo');
    expect(firstScreen).toContain('npm ci && npm test');
    expect(firstScreen).toContain('The library and the demo need no Python');
    expect(pkg.scripts.pretest).toMatch(/^node scripts\/duckdb-extensions\.mjs /);
    expect(pkg.scripts.prepare).toBeDefined();
    expect(pkg.scripts.demo).toBeDefined();
    expect(pkg.scripts.test).toBe('vitest run');
  });

  it('shows only configs that millrace accepts', () => {
    const configs = configsInReadme();
    expect(configs.length).toBeGreaterThanOrEqual(6);
    expect(configs.filter((c) => c.where.startsWith('jsonc')).length).toBeGreaterThanOrEqual(1);
    const env = new Set<string>();
    for (const { config } of configs) for (const m of JSON.stringify(config).matchAll(/\$env:([A-Z0-9_]+)/g)) env.add(m[1]!);
    const saved = { ...process.env };
    try {
      for (const name of env) process.env[name] = name.endsWith('URL') ? 'postgres://u@h/db' : 'x';
      for (const { where, config } of configs) {
        expect(() => resolveConfig({ config, source: 'README' }), where).not.toThrow();
      }
    } finally {
      process.env = saved;
    }
  });

  it('documents every public function', async () => {
    const api = await import('../src/index.js');
    const undocumented = Object.entries(api)
      .filter(([name, v]) => typeof v === 'function' && name !== 'default' && !/^[A-Z]/.test(name))
      .map(([name]) => name)
      .filter((name) => !readme.includes(`${name}(`));
    expect(undocumented).toEqual([]);
  });

  it('documents every exported class and the default export\'s getConfig', async () => {
    const api = await import('../src/index.js');
    const classes = Object.keys(api).filter((name) => /^[A-Z]/.test(name));
    expect(classes).toEqual(expect.arrayContaining(['RawSql', 'Identifier']));
    expect(classes.filter((name) => !readme.includes(`\`${name}\``))).toEqual([]);
    expect(api.default.getConfig).toBe(api.getConfig);
  });

  it('lists every error code', () => {
    const source = readFileSync(join(root, 'src/errors.ts'), 'utf8');
    const union = source.slice(source.indexOf('export type ErrorCode'), source.indexOf(';', source.indexOf('export type ErrorCode')));
    const codes = [...union.matchAll(/'(\w+)'/g)].map((m) => m[1]!);
    expect(codes.length).toBeGreaterThan(10);
    const table = readme.slice(readme.indexOf('## Errors'));
    expect(codes.filter((c) => !table.includes(`| \`${c}\` |`))).toEqual([]);
  });
});
