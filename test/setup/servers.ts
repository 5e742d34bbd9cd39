/**
 * Starts the real storage servers the tests run against, in-process, on free loopback ports:
 * s3rver (S3 API) and Azurite (Microsoft's Azure Blob emulator). Tests read their addresses with `inject()`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import type {} from 'vitest';
import './s3rver-openssl3.js';
import S3rver from 's3rver';

export type S3ServerInfo = { endPoint: string; accessKey: string; secretKey: string; region: string };
export type AzureServerInfo = { accountName: string; accessKey: string; endpoint: string };

declare module 'vitest' {
  export interface ProvidedContext {
    s3: S3ServerInfo;
    azure: AzureServerInfo;
  }
}

// Azurite's well-known development account (public, documented by Microsoft).
const AZURITE_ACCOUNT = 'devstoreaccount1';
const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'millrace-servers-'));

  const s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: join(dir, 's3') });
  const s3Address = (await s3.run()) as { port: number };

  // Azurite's package entry is its VS Code extension; the blob server lives in its own modules.
  const { default: BlobServer } = (await import('azurite/dist/src/blob/BlobServer.js')) as unknown as {
    default: new (config: unknown) => { start(): Promise<void>; close(): Promise<void>; getHttpServerAddress(): string };
  };
  const { default: BlobConfiguration } = (await import('azurite/dist/src/blob/BlobConfiguration.js')) as unknown as {
    default: new (...args: unknown[]) => unknown;
  };
  const blobConfig = new BlobConfiguration(
    '127.0.0.1', 0, undefined,
    join(dir, 'azurite-db.json'), join(dir, 'azurite-extent.json'),
    [{ locationId: 'Default', locationPath: join(dir, 'azurite'), maxConcurrency: 10 }],
    false, undefined, false, undefined, true /* loose */, true /* skip API version check */,
  );
  const blob = new BlobServer(blobConfig);
  await blob.start();
  const azureUrl = new URL(blob.getHttpServerAddress());

  project.provide('s3', { endPoint: `http://127.0.0.1:${s3Address.port}`, accessKey: 'S3RVER', secretKey: 'S3RVER', region: 'us-east-1' });
  project.provide('azure', { accountName: AZURITE_ACCOUNT, accessKey: AZURITE_KEY, endpoint: `http://127.0.0.1:${azureUrl.port}/${AZURITE_ACCOUNT}` });

  return async () => {
    await Promise.allSettled([s3.close(), blob.close()]);
    rmSync(dir, { recursive: true, force: true });
  };
}
