import { MillraceError } from './errors.js';

// A non-literal specifier keeps bundlers from pulling heavy backends into bundles that never use them.
const dynamicImport = (specifier: string): Promise<unknown> => import(specifier);

/** Imports a heavy optional backend on first use, with a typed error saying how to install it. */
export async function importBackend<T>(pkg: string): Promise<T> {
  try {
    return (await dynamicImport(pkg)) as T;
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' || (e as { code?: string }).code === 'MODULE_NOT_FOUND') {
      throw new MillraceError('Unsupported', `${pkg} is not installed; run \`npm i ${pkg}\` to use this backend`, { cause: e });
    }
    throw e;
  }
}
