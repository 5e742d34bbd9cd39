/** The storage client cache: one client per configured storage, opened on first use (see runtime.ts). */
import { getConfig, storageNames } from '../config.js';
import { MillraceError } from '../errors.js';
import { cache } from '../runtime.js';
import type { StorageConfig } from './config.js';
import { BACKENDS } from './registry.js';
import type { Storage } from './types.js';

type Factory = (config: StorageConfig, name: string) => Promise<Storage>;

const clients = cache<Storage>((client) => client.close());

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
  return clients.get(id, () => BACKENDS[config.type].load().then((m) => (m.create as Factory)(config, id)));
}
