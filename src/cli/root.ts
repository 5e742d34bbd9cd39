import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The package folder: the bin is `<package>/dist/cli.js` (or src/cli/main.ts), wherever npm linked it from. */
export function packageRoot(): string {
  const bin = realpathSync(process.argv[1]!);
  return dirname(dirname(bin.includes(`${join('src', 'cli')}`) ? dirname(bin) : bin));
}

export function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
