import { describe, expect, it } from 'vitest';
import { imagesToRemove } from '../../src/deploy/image-retention';
import { shaOfTags } from '../../src/docker/image-tags';

const image = (n: number) => ({ id: `id${n}`, sha: `sha${n}`, tags: [`app:sha${n}`] });

describe('image retention', () => {
  const images = [1, 2, 3, 4, 5, 6, 7].map(image);

  it('keeps the images of the last N successful releases and removes the rest', () => {
    const removed = imagesToRemove(images, ['sha7', 'sha6', 'sha5', 'sha4', 'sha3', 'sha2', 'sha1'], 'sha7', new Set(), 5);
    expect(removed.map((i) => i.sha)).toEqual(['sha1', 'sha2']);
  });
  it('counts a sha deployed twice once', () => {
    const removed = imagesToRemove(images, ['sha7', 'sha6', 'sha7', 'sha5', 'sha4', 'sha3'], 'sha7', new Set(), 5);
    expect(removed.map((i) => i.sha)).toEqual(['sha1', 'sha2']);
  });
  it('never removes the live image, even after a rollback to an old one', () => {
    const removed = imagesToRemove(images, ['sha7', 'sha6', 'sha5', 'sha4', 'sha3'], 'sha1', new Set(), 2);
    expect(removed.map((i) => i.sha)).not.toContain('sha1');
  });
  it('never removes an image a container uses', () => {
    const removed = imagesToRemove(images, ['sha7', 'sha6'], 'sha7', new Set(['id3']), 2);
    expect(removed.map((i) => i.sha)).toEqual(['sha1', 'sha2', 'sha4', 'sha5']);
  });
});

describe('the commit of an image', () => {
  const sha = 'a'.repeat(40);
  it('is read off its <app>:<sha> tag', () => {
    expect(shaOfTags('shop', ['shop:latest', `shop:${sha}`])).toBe(sha);
  });
  it("is unknown without such a tag, and another app's or a non-sha tag does not count", () => {
    expect(shaOfTags('shop', ['shop:latest'])).toBe('');
    expect(shaOfTags('shop', [`shopx:${sha}`, `other:${sha}`, 'shop:v1.2', `shop:${sha.slice(1)}`])).toBe('');
    expect(shaOfTags('shop', [])).toBe('');
  });
});
