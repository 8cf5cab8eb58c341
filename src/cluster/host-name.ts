import { z } from 'zod';

/** The server's own name in `slipway hosts` and in an app's `hosts`: it needs no agent. */
export const LOCAL_HOST = 'local';

/**
 * A host's name: it becomes a file name, a Redis user and a queue name. Like app names: 1-40
 * characters a-z, 0-9 and "-", starting with a letter; `local` is the server itself.
 */
export const HOST_NAME = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,39}$/, 'expected 1-40 characters a-z, 0-9 and "-", starting with a letter')
  .refine((name) => name !== LOCAL_HOST, '"local" is the server itself; pick another name');
