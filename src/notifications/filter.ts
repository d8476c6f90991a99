/** An endpoint's ignore rules: `ignoredmediatypes`, `ignore.mediatypes` and `ignore.actions`. */
import type { EventAction, NotificationEvent } from './envelope.js';

export interface IgnoreRules {
  readonly mediaTypes: readonly string[];
  readonly actions: readonly EventAction[];
}

/** Whether an endpoint wants an event: its action and its target's media type are not ignored. */
export function wants(rules: IgnoreRules, event: Pick<NotificationEvent, 'action' | 'target'>): boolean {
  if (rules.actions.includes(event.action)) return false;
  const mediaType = event.target.mediaType;
  return mediaType === undefined || !rules.mediaTypes.includes(mediaType);
}
