/** "Did you mean …?" for a mistyped name: the closest known name, when it is close enough. */
import { closestMatch } from 'leven';

/** ` (did you mean "x"?)`, or '' when no candidate is within a third of the word's length. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const list = [...new Set(candidates)].filter((c) => c !== word);
  const maxDistance = Math.max(1, Math.min(3, Math.floor(word.length / 3)));
  const lower = word.toLowerCase();
  const match = list.find((c) => c.toLowerCase() === lower) ?? closestMatch(word, list, { maxDistance });
  if (match === undefined) return '';
  return ` (did you mean "${match}"?)`;
}
