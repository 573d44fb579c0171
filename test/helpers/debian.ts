/**
 * Debian packages a test drives (chromium, tmux): found, or installed with apt-get when missing
 * and the tests run as root; otherwise the reason, for the test to skip saying why.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export function ensureDebianPackage(pkg: string, bin: string): { bin?: string; why?: string } {
  if (existsSync(bin)) return { bin };
  if (process.getuid?.() !== 0) return { why: `${pkg} is not installed and the tests do not run as root (apt-get install -y ${pkg})` };
  try {
    const opts = { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, stdio: 'pipe' as const, timeout: 600_000 };
    execFileSync('apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'update'], opts);
    execFileSync('apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'install', '-y', '--no-install-recommends', pkg], opts);
  } catch (err) {
    return { why: `${pkg} could not be installed with apt-get: ${String(err).split('\n')[0]}` };
  }
  return existsSync(bin) ? { bin } : { why: `apt-get installed ${pkg} but ${bin} is not there` };
}
