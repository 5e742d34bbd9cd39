// Node module hook: prints every module URL resolved, so a test can see what an import really loads.
import { register } from 'node:module';

register(
  'data:text/javascript,' +
    encodeURIComponent(`
      export async function resolve(specifier, context, next) {
        const r = await next(specifier, context);
        process.stderr.write('LOADED ' + r.url + '\\n');
        return r;
      }`),
);
