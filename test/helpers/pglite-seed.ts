/** Tells whether an embedded data folder was unpacked from a seed: its PG_VERSION keeps the seed's mtime (initdb's is the time it ran). */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

/** The mtime (seconds) of PG_VERSION inside a seed tarball. */
export function seedMtime(seed: string): number {
  const tar = gunzipSync(readFileSync(seed));
  for (let at = 0; at + 512 <= tar.length; ) {
    const name = tar.toString('latin1', at, at + 100).replace(/\0.*$/s, '');
    const size = parseInt(tar.toString('latin1', at + 124, at + 136).replace(/\0.*$/s, '').trim() || '0', 8);
    if (name.replace(/^\/+/, '') === 'PG_VERSION') return parseInt(tar.toString('latin1', at + 136, at + 148).replace(/\0.*$/s, '').trim(), 8);
    at += 512 + Math.ceil(size / 512) * 512;
  }
  throw new Error(`no PG_VERSION in ${seed}`);
}

export function madeFromSeed(dataDir: string, seed: string): boolean {
  return Math.floor(statSync(join(dataDir, 'PG_VERSION')).mtimeMs / 1000) === seedMtime(seed);
}
