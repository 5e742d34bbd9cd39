/**
 * The `millrace` bin, built and run as a child process in a temp consumer project, against s3rver,
 * Azurite and a local folder: help, version, exit codes, and the file commands.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildConsumer, cliEnv, runCli, runOnTerminal, hasScript, type Consumer } from './helpers/cli.js';
import { azureStorage, fsStorage, rawS3, s3Storage } from './helpers/storage.js';

let c: Consumer;
let env: Record<string, string>;
let bucket = '';

beforeAll(async () => {
  c = buildConsumer('files');
  const s3 = await s3Storage('cli');
  bucket = s3.bucket;
  const config = { storage: s3, secondaryStorage: { az: await azureStorage('cli'), local: fsStorage('cli') } };
  const home = mkdtempSync(join(tmpdir(), 'millrace-cli-home-'));
  writeFileSync(join(home, 'config.json'), JSON.stringify(config));
  env = { MILLRACE_CONFIG: join(home, 'config.json'), MILLRACE_HOME: home };
}, 180_000);

const cli = (args: string[], opts: { input?: string | Buffer; env?: Record<string, string | undefined> } = {}) => runCli(c, args, { ...opts, env: { ...env, ...opts.env } });

describe('millrace CLI basics', () => {
  it('--version prints the package version', async () => {
    const r = await cli(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync(join(c.pkg, 'package.json'), 'utf8')).version);
  });

  it.each(['ls', 'cat', 'cp', 'mv', 'rm', 'stat', 'presign', 'preview', 'sql', 'run', 'doctor'])('%s --help shows usage and examples', async (cmd) => {
    const r = await cli([cmd, '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`Usage: millrace ${cmd}`);
    expect(r.stdout).toContain('Examples:');
  });

  it('extensions --help is the provisioner\'s own; `millrace help extensions` shows the command with examples', async () => {
    const r = await cli(['help', 'extensions']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: millrace extensions');
    expect(r.stdout).toContain('Examples:');
  });

  it('usage errors exit 2 with the message on stderr, nothing on stdout', async () => {
    for (const args of [['bogus'], ['ls', '--nope'], ['cp', 'only-one'], ['presign', '--expires', 'soon', 's3:///a'], ['cat', 'not-a-uri']]) {
      const r = await cli(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).not.toBe('');
    }
  });

  it('a library error exits 1 with its code and no stack; --debug adds the stack', async () => {
    const r = await cli(['cat', 's3:///no/such/file.txt']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^millrace: NotFound: /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const d = await cli(['cat', 's3:///no/such/file.txt', '--debug']);
    expect(d.status).toBe(1);
    expect(d.stderr).toMatch(/\n\s+at /);
    const unknown = await cli(['ls', 's3://nope/']);
    expect(unknown.stderr).toMatch(/StorageNotConfigured|Config/);
    expect(unknown.stderr).toContain('az');
  });
});

describe('file commands', () => {
  const work = mkdtempSync(join(tmpdir(), 'millrace-cli-work-'));

  it('cp: local file -> s3 -> azure -> fs -> local, stdin and stdout, bytes intact', async () => {
    const data = randomBytes(300_000);
    writeFileSync(join(work, 'blob.bin'), data);
    expect((await cli(['cp', join(work, 'blob.bin'), 's3:///cp/blob.bin'])).status).toBe(0);
    expect((await cli(['cp', 's3:///cp/blob.bin', 's3://az/cp/'])).status).toBe(0);
    expect((await cli(['cp', 's3://az/cp/blob.bin', 's3://local/cp/blob.bin'])).status).toBe(0);
    expect((await cli(['cp', 's3://local/cp/blob.bin', join(work, 'out')])).stderr).toBe('');
    expect(readFileSync(join(work, 'out')).equals(data)).toBe(true);
    const piped = await cli(['cp', '-', 's3://az/cp/stdin.txt'], { input: 'from stdin\n' });
    expect(piped.status).toBe(0);
    const back = await cli(['cp', 's3://az/cp/stdin.txt', '-']);
    expect(back.stdout).toBe('from stdin\n');
  });

  it('cat writes the exact bytes to stdout, and stops quietly when the reader goes away', async () => {
    const r = await cli(['cat', 's3://az/cp/stdin.txt']);
    expect(r).toMatchObject({ status: 0, stdout: 'from stdin\n', stderr: '' });
    const lines = Array.from({ length: 200_000 }, (_, i) => `line ${i}`).join('\n');
    await cli(['cp', '-', 's3:///cp/lines.txt'], { input: lines });
    const head = spawnSync('bash', ['-c', `"${c.bin}" cat s3:///cp/lines.txt | head -1; echo "exit \${PIPESTATUS[0]}"`], { encoding: 'utf8', env: cliEnv(env) });
    expect(head.stdout).toBe('line 0\nexit 0\n');
    expect(head.stderr).toBe('');
  });

  it('cp --recursive copies a folder up and back down across storages', async () => {
    const src = join(work, 'tree');
    mkdirSync(join(src, 'sub', 'deeper'), { recursive: true });
    writeFileSync(join(src, 'a.txt'), 'A');
    writeFileSync(join(src, 'sub', 'b.txt'), 'B');
    writeFileSync(join(src, 'sub', 'deeper', 'c.csv'), 'x\n1\n');
    const up = await cli(['cp', '--recursive', src, 's3:///tree/']);
    expect(up.status).toBe(0);
    expect(up.stderr).toContain('copied 3 files');
    expect((await cli(['cp', '-r', 's3:///tree', 's3://az/tree2'])).status).toBe(0);
    expect((await cli(['cp', '-r', 's3://az/tree2/', join(work, 'down')])).status).toBe(0);
    expect(readFileSync(join(work, 'down', 'sub', 'deeper', 'c.csv'), 'utf8')).toBe('x\n1\n');
    expect(readdirSync(join(work, 'down')).sort()).toEqual(['a.txt', 'sub']);
  });

  it('ls: folders first level, -l details, --recursive, --json', async () => {
    const top = await cli(['ls', 's3:///tree/']);
    expect(top.stdout.split('\n').filter(Boolean)).toEqual(['s3:///tree/a.txt', 's3:///tree/sub/']);
    const long = await cli(['ls', '-l', 's3:///tree/sub/deeper/']);
    expect(long.stdout).toMatch(/4 B\s+\d{4}-\d\d-\d\dT[\d:.]+Z\s+text\/csv\s+s3:\/\/\/tree\/sub\/deeper\/c\.csv/);
    const rec = await cli(['ls', '--recursive', '--json', 's3://az/tree2/']);
    const items = JSON.parse(rec.stdout) as { s3: string; size: number; storage: string }[];
    expect(items.map((i) => i.s3)).toEqual(['tree2/a.txt', 'tree2/sub/b.txt', 'tree2/sub/deeper/c.csv']);
    expect(items[0]).toMatchObject({ size: 1, storage: 'az' });
    const all = await cli(['ls']);
    expect(all.stdout).toContain('s3:///tree/');
  });

  it('ls pages past 1,000 keys', async () => {
    const client = rawS3();
    const keys = Array.from({ length: 1005 }, (_, i) => `many/k${String(i).padStart(4, '0')}`);
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(keys.slice(i, i + 50).map((Key) => client.send(new PutObjectCommand({ Bucket: bucket, Key, Body: 'x' }))));
    }
    client.destroy();
    const r = await cli(['ls', 's3:///many/']);
    const lines = r.stdout.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1005);
    expect(lines[1004]).toBe('s3:///many/k1004');
    expect((await cli(['ls', '--limit', '3', 's3:///many/'])).stdout.split('\n').filter(Boolean)).toHaveLength(3);
  }, 120_000);

  it('stat: table, --json, and NotFound for a missing key', async () => {
    const r = await cli(['stat', '--json', 's3:///tree/a.txt']);
    expect(JSON.parse(r.stdout)).toEqual([expect.objectContaining({ uri: 's3:///tree/a.txt', s3: 'tree/a.txt', size: 1, contentType: 'text/plain' })]);
    const t = await cli(['stat', 's3://az/tree2/sub/b.txt']);
    expect(t.stdout).toMatch(/size\s+│ 1\b/);
    const missing = await cli(['stat', 's3:///tree/none']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/NotFound/);
  });

  it('mv moves within and across storages; the source is gone', async () => {
    expect((await cli(['mv', 's3:///tree/a.txt', 's3:///moved/a.txt'])).status).toBe(0);
    expect((await cli(['mv', 's3:///moved/a.txt', 's3://az/moved/a.txt'])).status).toBe(0);
    expect((await cli(['stat', 's3:///moved/a.txt'])).status).toBe(1);
    expect((await cli(['cat', 's3://az/moved/a.txt'])).stdout).toBe('A');
    writeFileSync(join(work, 'local-move.txt'), 'L');
    expect((await cli(['mv', join(work, 'local-move.txt'), 's3://local/moved/'])).status).toBe(0);
    expect(existsSync(join(work, 'local-move.txt'))).toBe(false);
    expect((await cli(['cat', 's3://local/moved/local-move.txt'])).stdout).toBe('L');
  });

  it('rm: one file; --recursive needs --yes when not on a terminal', async () => {
    expect((await cli(['rm', 's3://az/moved/a.txt'])).status).toBe(0);
    expect((await cli(['rm', 's3://az/moved/a.txt'])).status).toBe(1);
    const refused = await cli(['rm', '--recursive', 's3://az/tree2/']);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('--yes');
    expect((await cli(['ls', '-r', 's3://az/tree2/'])).stdout.split('\n').filter(Boolean)).toHaveLength(3);
    const yes = await cli(['rm', '--recursive', '--yes', 's3://az/tree2/']);
    expect(yes.status).toBe(0);
    expect(yes.stderr).toContain('deleted 3 files');
    expect((await cli(['ls', '-r', 's3://az/tree2/'])).stdout).toBe('');
  });

  it.runIf(hasScript())('rm --recursive asks on a terminal and deletes nothing without a yes', async () => {
    const no = await runOnTerminal(c, ['rm', '--recursive', 's3:///tree/sub/'], ['n\r'], { env, pause: 2500 });
    expect(no.stdout).toContain('Delete 2 files under s3:///tree/sub/? [y/N]');
    expect(no.stdout).toContain('nothing deleted');
    expect((await cli(['ls', '-r', 's3:///tree/sub/'])).stdout.split('\n').filter(Boolean)).toHaveLength(2);
    const yes = await runOnTerminal(c, ['rm', '--recursive', 's3:///tree/sub/'], ['y\r'], { env, pause: 2500 });
    expect(yes.stdout).toContain('deleted 2 files');
    expect((await cli(['ls', '-r', 's3:///tree/sub/'])).stdout).toBe('');
  });

  it.runIf(hasScript())('a transfer over the threshold shows a progress bar on a terminal, none when piped', async () => {
    writeFileSync(join(work, 'big.bin'), randomBytes(3 * 1024 * 1024));
    const tty = await runOnTerminal(c, ['cp', join(work, 'big.bin'), 's3:///big/big.bin'], [], { env: { ...env, MILLRACE_PROGRESS_MIN_BYTES: '1000000' } });
    expect(tty.stdout).toMatch(/\d+%/);
    const piped = await cli(['cp', join(work, 'big.bin'), 's3:///big/big2.bin'], { env: { MILLRACE_PROGRESS_MIN_BYTES: '1000000' } });
    expect(piped).toMatchObject({ status: 0, stdout: '', stderr: '' });
  });

  it('presign --expires: a working URL on S3 and Azure; the fs storage says it cannot sign', async () => {
    const s3 = await cli(['presign', '--expires', '1h', 's3:///big/big2.bin']);
    expect(s3.status).toBe(0);
    expect(s3.stdout).toMatch(/X-Amz-Expires=3600/);
    expect((await fetch(s3.stdout.trim())).status).toBe(200);
    await cli(['cp', '-', 's3://az/p/hello.txt'], { input: 'hello' });
    const az = await cli(['presign', 's3://az/p/hello.txt']);
    expect(await (await fetch(az.stdout.trim())).text()).toBe('hello');
    const fs = await cli(['presign', 's3://local/moved/local-move.txt']);
    expect(fs.status).toBe(1);
    expect(fs.stderr).toMatch(/^millrace: Unsupported: /);
  });
});

describe('library entry points stay light', () => {
  it('no built file but the CLI refers to commander, cli-table3 or cli-progress', () => {
    const dist = join(c.pkg, 'dist');
    const importers = readdirSync(dist).filter((f) => /\.c?js$/.test(f) && !readFileSync(join(dist, f), 'utf8').startsWith('#!'));
    expect(importers.length).toBeGreaterThan(3);
    for (const f of importers) expect(readFileSync(join(dist, f), 'utf8'), f).not.toMatch(/["'](commander|cli-table3|cli-progress)["']/);
  });
});
