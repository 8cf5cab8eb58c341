import type { AppImage } from '../docker/image-tags';

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
