import { SHA_PATTERN } from '../names';

/** An app image: its id, the commit it was built from, its tags. */
export interface AppImage {
  id: string;
  sha: string;
  tags: string[];
}

/**
 * The commit an image was built from, read off its `<app>:<sha>` tag ('' when it has none). Not a
 * label: the legacy builder turns each build label into one more build step (~0.1 s each).
 */
export function shaOfTags(app: string, tags: string[]): string {
  const prefix = `${app}:`;
  const tag = tags.find((t) => t.startsWith(prefix) && SHA_PATTERN.test(t.slice(prefix.length)));
  return tag === undefined ? '' : tag.slice(prefix.length);
}
