/**
 * Files whose content becomes tailship's behaviour (the config, which may name a parser module;
 * the module itself, which runs as tailship's user) are refused when someone other than their
 * owner may write them, as sshd and sudo refuse such files: whoever can edit them could run code
 * as tailship or send its events elsewhere. Fix with `chmod go-w FILE`.
 */
import { statSync } from 'node:fs';
import { TailshipError } from '../errors.js';

export function refuseWritableByOthers(file: string, what: string, place: { path?: string } = {}): void {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch {
    return; // not a file here (the caller reports a missing file in its own words)
  }
  if ((mode & 0o022) === 0) return;
  const who = mode & 0o002 ? 'anyone' : 'its group';
  throw new TailshipError(
    'TAILSHIP_FILE_INSECURE',
    `${what} ${file} is writable by ${who} (mode ${(mode & 0o777).toString(8).padStart(4, '0')}): whoever can change it can run code as tailship; run \`chmod go-w ${file}\``,
    { file, ...place },
  );
}
