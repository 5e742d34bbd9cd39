import { getConfig, onConfigChange, storageNames, type StorageConfig } from '../config.js';
import { MillraceError } from '../errors.js';
import { onClose } from '../lifecycle.js';
import { BACKENDS } from './registry.js';
import type { Storage } from './types.js';

export type { Storage, ObjectMeta, PutBody, PutOptions, GetOptions, ListPage, DuckDBAccess } from './types.js';

type Factory = (config: StorageConfig, name: string) => Promise<Storage>;

const clients = new Map<string, Promise<Storage>>();

onConfigChange(closeStorages);
onClose(closeStorages);

export async function closeStorages(): Promise<void> {
  const all = [...clients.values()];
  clients.clear();
  await Promise.allSettled(all.map(async (p) => (await p).close()));
}

export type StorageSelector = { storage?: string; resource?: string };

/** The config of the storage a selector names: a resource path wins, then a storage name, else the default. */
export function storageConfig(sel: StorageSelector): { id: string; config: StorageConfig } {
  const c = getConfig();
  if (sel.resource !== undefined) {
    const path = sel.resource.replace(/^(\$res:|res:\/\/)/, '');
    const config = c.resources[path];
    if (!config) {
      const names = Object.keys(c.resources);
      throw new MillraceError('StorageNotConfigured', `Unknown resource ${JSON.stringify(path)}; configured resources: ${names.length ? names.join(', ') : '(none)'}`);
    }
    return { id: `resource:${path}`, config };
  }
  if (sel.storage) {
    const config = c.secondaryStorage[sel.storage];
    if (!config) {
      throw new MillraceError('StorageNotConfigured', `Unknown storage ${JSON.stringify(sel.storage)}; configured storages: ${storageNames(c)}`);
    }
    return { id: `storage:${sel.storage}`, config };
  }
  return { id: 'default', config: c.storage };
}

/** The client for a storage, created once and reused until the config changes. */
export function getStorage(sel: StorageSelector): Promise<Storage> {
  const { id, config } = storageConfig(sel);
  let client = clients.get(id);
  if (!client) {
    client = BACKENDS[config.type].load().then((m) => (m.create as Factory)(config, id));
    client.catch(() => clients.delete(id));
    clients.set(id, client);
  }
  return client;
}
