import { SHA_PATTERN } from '../names';

/** An app image as retention sees it. */
export interface AppImage {
  id: string;
  sha: string;
  tags: string[];
}

/**
 * The images to remove after a successful deploy: every image of the app except those of the
 * `keep` most recent successful releases (which include the live one and the rollback target),
 * the live sha, and any image a container (running or not) uses.
 */
export function imagesToRemove(images: AppImage[], successfulShasNewestFirst: string[], liveSha: string, inUseImageIds: Set<string>, keep: number): AppImage[] {
  const kept = new Set([liveSha, ...unique(successfulShasNewestFirst).slice(0, keep)]);
  return images.filter((image) => !kept.has(image.sha) && !inUseImageIds.has(image.id));
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
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
