/**
 * The built `millrace` bin in a temp consumer project: the package is built with tsup into its
 * own folder (so a parallel build of dist/ cannot pull it away), linked into
 * `consumer/node_modules/millrace` with its `.bin/millrace`, and run as a child process.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const root = resolve(__dirname, '..', '..');

export type Consumer = { dir: string; bin: string; pkg: string };

export function buildConsumer(tag: string): Consumer {
  const base = mkdtempSync(join(tmpdir(), `millrace-cli-${tag}-`));
  const pkg = join(base, 'pkg');
  mkdirSync(join(pkg, 'scripts'), { recursive: true });
  copyFileSync(join(root, 'package.json'), join(pkg, 'package.json'));
  copyFileSync(join(root, 'scripts', 'duckdb-extensions.mjs'), join(pkg, 'scripts', 'duckdb-extensions.mjs'));
  symlinkSync(join(root, 'node_modules'), join(pkg, 'node_modules'), 'dir');
  execFileSync('npx', ['tsup', '--silent', '--out-dir', join(pkg, 'dist')], { cwd: root, stdio: 'pipe' });
  const dir = join(base, 'consumer');
  mkdirSync(join(dir, 'node_modules', '.bin'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  symlinkSync(pkg, join(dir, 'node_modules', 'millrace'), 'dir');
  // What npm does for a package's "bin": a link in node_modules/.bin.
  symlinkSync(join('..', 'millrace', 'dist', 'cli.js'), join(dir, 'node_modules', '.bin', 'millrace'));
  return { dir, bin: join(dir, 'node_modules', '.bin', 'millrace'), pkg };
}

export type Result = { status: number | null; stdout: string; stderr: string };

export function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}`, NO_COLOR: '1', ...extra };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  return env;
}

/** Runs the bin (through its shebang) and waits. */
export function runCli(c: Consumer, args: string[], opts: { env?: Record<string, string | undefined>; input?: string | Buffer; cwd?: string } = {}): Promise<Result> {
  return new Promise((done, fail) => {
    const child = spawn(c.bin, args, { cwd: opts.cwd ?? c.dir, env: cliEnv(opts.env) });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', fail);
    child.on('close', (status) => done({ status, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
    child.stdin.end(opts.input ?? '');
  });
}

/**
 * Runs the bin on a pseudo-terminal (util-linux `script`), typing `lines` one by one with a pause
 * so each is read after the previous output. Returns what the terminal showed.
 */
export async function runOnTerminal(c: Consumer, args: string[], lines: string[], opts: { env?: Record<string, string | undefined>; pause?: number } = {}): Promise<Result> {
  const command = [c.bin, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((done, fail) => {
    const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: c.dir, env: cliEnv({ COLUMNS: '100', LINES: '40', ...opts.env }) });
    const out: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => out.push(b));
    child.on('error', fail);
    child.on('close', (status) => done({ status, stdout: plain(Buffer.concat(out).toString('utf8')), stderr: '' }));
    const pause = opts.pause ?? 1500;
    void (async () => {
      await new Promise((r) => setTimeout(r, 3000));
      for (const line of lines) {
        child.stdin.write(line);
        await new Promise((r) => setTimeout(r, pause));
      }
      child.stdin.end();
    })();
  });
}

export function hasScript(): boolean {
  return spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
}

/** Terminal output without carriage returns and cursor-control sequences (readline redraws the prompt). */
function plain(text: string): string {
  return text.replace(/\r/g, '').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
}
