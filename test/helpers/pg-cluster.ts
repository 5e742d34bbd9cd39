/**
 * A private throwaway PostgreSQL cluster a test may stop and start (the same cluster the test setup
 * makes, test/setup/postgres.ts), so restarts disturb no other test.
 */
import { newCluster, type Cluster } from '../setup/postgres.js';

export type PrivateCluster = Cluster & { restart(mode?: 'fast' | 'immediate'): void };

export async function privateCluster(): Promise<PrivateCluster> {
  const cluster = await newCluster('millrace-cluster-');
  cluster.start();
  return {
    ...cluster,
    restart(mode = 'fast') {
      cluster.stop(mode);
      cluster.start();
    },
  };
}
