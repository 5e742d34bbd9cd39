/** The storage client cache: one client per configured storage, opened on first use (see runtime.ts). */
import { getConfig, namedEntry, storageNames } from '../config.js';
import { MillraceError } from '../errors.js';
import { cache } from '../runtime.js';
import type { StorageConfig } from './config.js';
import { BACKENDS } from './registry.js';
import type { Storage } from './types.js';

type Factory = (config: StorageConfig, name: string) => Promise<Storage>;

const clients = cache<Storage>((client) => client.close());

export type StorageSelector = { storage?: string; resource?: string };

/**
 * The config of the storage a selector names: a resource path wins, then a storage name, else the
 * default. Names are looked up as own entries only (`__proto__`, `toString` name nothing).
 */
export function storageConfig(sel: StorageSelector): { id: string; config: StorageConfig } {
  const c = getConfig();
  if (sel.resource !== undefined) {
    if (typeof sel.resource !== 'string') throw new MillraceError('InvalidArgument', 's3ResourcePath must be a string');
    const path = sel.resource.replace(/^(\$res:|res:\/\/)/, '');
    if (namedEntry(c.resources, path) === undefined) {
      const names = Object.keys(c.resources);
      throw new MillraceError('StorageNotConfigured', `Unknown resource ${JSON.stringify(path)}; configured resources: ${names.length ? names.join(', ') : '(none)'}`);
    }
    return { id: `resource:${path}`, config: c.resources[path]! };
  }
  if (sel.storage !== undefined && sel.storage !== null && typeof sel.storage !== 'string') throw new MillraceError('InvalidArgument', 'A storage name must be a string');
  if (sel.storage) {
    if (namedEntry(c.secondaryStorage, sel.storage) === undefined) {
      throw new MillraceError('StorageNotConfigured', `Unknown storage ${JSON.stringify(sel.storage)}; configured storages: ${storageNames(c)}`);
    }
    return { id: `storage:${sel.storage}`, config: c.secondaryStorage[sel.storage]! };
  }
  return { id: 'default', config: c.storage };
}

/** The client for a storage, created once and reused until the config changes. */
export function getStorage(sel: StorageSelector): Promise<Storage> {
  const { id, config } = storageConfig(sel);
  return clients.get(id, () => BACKENDS[config.type].load().then((m) => (m.create as Factory)(config, id)));
}
