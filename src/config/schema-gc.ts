/** The `gc` section: Wharf's garbage collection inside the server (`wharf gc` is the offline command). */
import * as z from 'zod';
import { duration } from './schema-helpers.js';

export const gcSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    interval: duration('zero-only').prefault('24h'),
    deleteuntagged: z.boolean().default(false),
    dryrun: z.boolean().default(false),
    draintimeout: duration('zero-only').prefault('5m'),
  })
  .superRefine(
    (gc, ctx) => {
      if (typeof gc !== 'object' || gc === null) return;
      const { enabled, interval } = gc as Partial<typeof gc>;
      if (enabled === true && interval === 0) ctx.addIssue({ code: 'custom', path: ['interval'], message: 'must be more than 0 when gc is enabled' });
    },
    { when: () => true },
  )
  .prefault({});
