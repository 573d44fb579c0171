// `prepare` (run by `npm ci` / `npm install` in a checkout): compile the TypeScript when the
// compiler is installed. A production install (`npm ci --omit=dev`) has no TypeScript and must
// not fail for it: it either already has dist/ (built earlier, as the Docker image does) or is
// told by bin/tailship.js how to build.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let tsc;
try {
  tsc = require.resolve('typescript/bin/tsc');
} catch {
  console.error('tailship: TypeScript is not installed (a production install), so dist/ is not rebuilt.');
  process.exit(0);
}
const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
process.exit(r.status ?? 1);
